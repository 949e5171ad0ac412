const { discounted } = require("../src/price");

test.each([
  [1000, 0, 1000],
  [1000, 10, 900],
  [999, 50, 500],
])("%i cents less %i%% is %i", (cents, percent, expected) => {
  expect(discounted(cents, percent)).toBe(expected);
});
