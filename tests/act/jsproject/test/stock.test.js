const { lineTotal } = require("../src/price");

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("restocking takes a while", async () => {
  await pause(1500);
  expect(lineTotal(10, 100)).toBe(1000);
});

test("an empty order costs nothing", () => {
  expect(lineTotal(250, 0)).toBe(0);
});
