const { lineTotal, discounted } = require("./price");

test("a line's total is unit price times quantity", () => {
  expect(lineTotal(199, 3)).toBe(597);
});

test("a negative quantity is refused", () => {
  expect(() => lineTotal(199, -1)).toThrow(RangeError);
});

test("a discount rounds to whole cents", () => {
  expect(discounted(1999, 5)).toBe(1899);
});
