// Prices in integer cents, as the Python example does.
function lineTotal(unitCents, quantity) {
  if (!Number.isInteger(unitCents) || !Number.isInteger(quantity) || quantity < 0) {
    throw new RangeError("cents and quantity must be whole numbers, quantity 0 or more");
  }
  return unitCents * quantity;
}

function discounted(cents, percent) {
  return Math.round((cents * (100 - percent)) / 100);
}

module.exports = { lineTotal, discounted };
