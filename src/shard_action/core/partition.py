"""Partitioning weights into parts with the smallest makespan (the largest part).

In the spirit of pytest-split's ``algorithms.py``: an enum of algorithms behind one call signature,
``Algorithm.X(weights, parts) -> groups``. Every algorithm

- returns ``min(parts, len(weights))`` groups, none of them empty (an empty shard would make
  pytest exit 5 and fail its job; fewer shards are better than an empty one);
- returns each group's indices in ascending order and the groups ordered by their first index;
- is deterministic: ties are broken by the index in ``weights``, never by hash or set order, so
  a caller that wants a plan independent of its input order passes the weights in a canonical
  order (the planner sorts by test id).

``LPT`` (longest first onto the least-loaded part) is the floor: it is what pytest-split's
``least_duration`` does. ``BALANCED`` improves it until the lower bound
``max(total / parts, longest)`` is reached or no improving step is left:

1. starts: LPT, and for small inputs also Karmarkar-Karp's differencing (which handles "few items
   of similar size", where LPT is known to be weak);
2. local search on each start: take the fullest part, and move one item to, or swap one pair with,
   the least-loaded part that allows a strict improvement, choosing the step that brings the two
   parts closest to equal. Each step lowers the sum of squared loads, so the search ends; it also
   stops on a fixed work budget (counted in items examined, not in seconds, so the result does not
   depend on the machine's speed);
3. the best start wins (ties: the earlier start, LPT first). Its makespan is never above LPT's.

``group_costs`` (with ``groups``): a cost each part pays once for every group it holds a member
of (a test file's collection: its imports), so splitting a group costs its cost again. Loads
then count it (:func:`loads_with_costs`); a group is cut into runs only for its items' own weight
(a heavy import alone never cuts a file), and the best start is judged by those loads.
"""

from __future__ import annotations

import enum
import heapq
import math
from bisect import bisect_left
from collections.abc import Callable, Sequence

Groups = list[list[int]]
Node = object
"""In differencing: an item index, or a pair of nodes (merging never copies item lists)."""

STOP_RTOL = 1e-9
"""Stop the search once the makespan is within this fraction of the lower bound."""
GROUP_SHARE = 0.5
"""A group (file) heavier than this share of a part's average is cut into runs. Whole files up to
a full share saved more re-paid fixtures, but put a file's correlated run-to-run noise into one
shard: half a share measured best on both counts (docs/benchmarks.md)."""
SIDE_RTOL = 0.02
"""Bins beside a long item are evened out to within 2%: slack, without moving every test."""
PAIR_EXACT_MAX = 22
"""Two bins with at most this many items together may be split anew exactly (2 x 2^11 sums)."""
KK_MAX_WORK = 200_000
EXACT_MAX_ITEMS = 64
"""Inputs this small that the heuristics left above the bound get a capped exact search."""
EXACT_NODES = 20_000
"""Run the differencing start only when items x parts is at most this (it costs O(n k log k))."""


def lower_bound(weights: Sequence[float], parts: int) -> float:
    """No partition into ``parts`` groups can have a smaller makespan."""
    if not weights or parts < 1:
        return 0.0
    return max(math.fsum(weights) / min(parts, len(weights)), *weights)


def loads(weights: Sequence[float], groups: Sequence[Sequence[int]]) -> list[float]:
    return [sum(weights[i] for i in group) for group in groups]


def makespan(weights: Sequence[float], groups: Sequence[Sequence[int]]) -> float:
    return max(loads(weights, groups), default=0.0)


def loads_with_costs(
    weights: Sequence[float],
    groups: Sequence[int],
    group_costs: Sequence[float],
    bins: Sequence[Sequence[int]],
) -> list[float]:
    """Each part's load: its items plus, once, the cost of every group it holds a member of."""
    return [
        math.fsum(weights[i] for i in b) + math.fsum(group_costs[g] for g in {groups[i] for i in b})
        for b in bins
    ]


def lower_bound_with_costs(
    weights: Sequence[float], parts: int, groups: Sequence[int], group_costs: Sequence[float]
) -> float:
    """No partition can do better: every group's cost is paid at least once."""
    if not weights or parts < 1:
        return 0.0
    total = math.fsum(weights) + math.fsum(group_costs[g] for g in set(groups))
    longest = max(w + group_costs[g] for w, g in zip(weights, groups, strict=True))
    return max(total / min(parts, len(weights)), longest)


def _finish(groups: Groups) -> Groups:
    """The canonical shape: no empty group, sorted indices, groups by first index."""
    out = [sorted(g) for g in groups if g]
    out.sort(key=lambda g: g[0])
    return out


def _lpt_bins(weights: Sequence[float], parts: int) -> Groups:
    k = min(parts, len(weights))
    if k <= 0:
        return []
    order = sorted(range(len(weights)), key=weights.__getitem__, reverse=True)  # stable
    bins: Groups = [[] for _ in range(k)]
    # (load, count, bin): among equal loads the emptier bin first, so zero weights still give
    # every bin an item; then the lower bin number.
    heap = [(0.0, 0, b) for b in range(k)]
    replace = heapq.heapreplace
    for i in order:
        load, count, b = heap[0]
        bins[b].append(i)
        replace(heap, (load + weights[i], count + 1, b))
    return bins


def _kk_bins(weights: Sequence[float], parts: int) -> Groups:
    """Complete k-way differencing (Karmarkar-Karp): merge the two most uneven partial solutions,
    pairing the fullest part of one with the emptiest of the other."""
    k = min(parts, len(weights))
    if k <= 0:
        return []
    heap: list[tuple[float, int, list[float], list[Node]]] = []
    seq = 0
    for i in sorted(range(len(weights)), key=weights.__getitem__, reverse=True):
        sums = [float(weights[i])] + [0.0] * (k - 1)
        nodes: list[Node] = [i] + [()] * (k - 1)
        heap.append((-sums[0], seq, sums, nodes))
        seq += 1
    heapq.heapify(heap)
    while len(heap) > 1:
        _, _, a_sums, a_nodes = heapq.heappop(heap)
        _, _, b_sums, b_nodes = heapq.heappop(heap)
        merged = sorted(
            (
                (a_sums[j] + b_sums[k - 1 - j], j, (a_nodes[j], b_nodes[k - 1 - j]))
                for j in range(k)
            ),
            key=lambda t: (-t[0], t[1]),
        )
        sums = [t[0] for t in merged]
        nodes = [t[2] for t in merged]
        heapq.heappush(heap, (-(sums[0] - sums[-1]), seq, sums, nodes))
        seq += 1
    bins: Groups = []
    for root in heap[0][3]:
        items: list[int] = []
        stack: list[Node] = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, int):
                items.append(node)
            elif isinstance(node, tuple):
                stack.extend(node)
        bins.append(items)
    return _fill_empty(weights, bins)


def _fill_empty(weights: Sequence[float], bins: Groups) -> Groups:
    """Give an empty bin the lightest item of the fullest bin that has two or more items.

    The moved item weighs at most the longest item, which is at most the makespan, so this never
    raises the makespan.
    """
    for empty in [b for b, items in enumerate(bins) if not items]:
        donors = [b for b, items in enumerate(bins) if len(items) > 1]
        if not donors:
            break
        donor = max(donors, key=lambda b: (sum(weights[i] for i in bins[b]), -b))
        item = min(bins[donor], key=lambda i: (weights[i], i))
        bins[donor].remove(item)
        bins[empty].append(item)
    return bins


class _Search:
    """Moves and swaps from the fullest bin, on per-bin sorted weight lists."""

    def __init__(self, weights: Sequence[float], bins: Groups) -> None:
        self.weights = weights
        self.ws: list[list[float]] = []
        self.ix: list[list[int]] = []
        for items in bins:
            ordered = sorted(items, key=weights.__getitem__)
            self.ws.append([weights[i] for i in ordered])
            self.ix.append(ordered)
        self.loads = [sum(w) for w in self.ws]

    def run(self, stop: float, eps: float, budget: int) -> int:
        """Search until the fullest bin is within ``stop``; returns the budget left."""
        k = len(self.ws)
        while budget > 0:
            hi = max(range(k), key=lambda b: (self.loads[b], -b))
            if self.loads[hi] <= stop:
                return budget
            stepped = False
            for lo in sorted(range(k), key=lambda b: (self.loads[b], b)):
                gap = self.loads[hi] - self.loads[lo]
                if gap <= eps:
                    break
                budget -= len(self.ws[hi]) + 1
                if self._step(hi, lo, gap, eps):
                    stepped = True
                    break
                if budget <= 0:
                    return budget
            if not stepped:
                for lo in sorted(range(k), key=lambda b: (self.loads[b], b)):
                    if lo == hi or self.loads[hi] - self.loads[lo] <= eps:
                        continue
                    budget -= 1 << (PAIR_EXACT_MAX // 2)
                    if self._repartition(hi, lo, eps):
                        stepped = True
                        break
                if not stepped:
                    return budget
        return budget

    def _repartition(self, hi: int, lo: int, eps: float) -> bool:
        """Split the items of two bins anew as evenly as possible (meet in the middle).

        Moves and swaps change one or two items at a time; some improvements need more. Only
        small bins are tried (``PAIR_EXACT_MAX`` items together): large bins of small tests are
        evened out by moves and swaps anyway.
        """
        items = self.ix[hi] + self.ix[lo]
        if len(items) > PAIR_EXACT_MAX:
            return False
        weights = self.weights
        half = len(items) // 2
        left, right = items[:half], items[half:]
        left_sums = _subset_sums([weights[i] for i in left])
        right_sums = _subset_sums([weights[i] for i in right])
        order = sorted(range(len(right_sums)), key=right_sums.__getitem__)
        ordered = [right_sums[m] for m in order]
        total = math.fsum(weights[i] for i in items)
        target = total / 2
        best_span, best_masks = self.loads[hi] - eps, (-1, -1)
        for left_mask, left_sum in enumerate(left_sums):
            q0 = bisect_left(ordered, target - left_sum)
            for q in (q0 - 1, q0):
                if 0 <= q < len(ordered):
                    part = left_sum + ordered[q]
                    span = max(part, total - part)
                    if span < best_span:
                        best_span, best_masks = span, (left_mask, order[q])
        if best_masks[0] < 0:
            return False
        left_mask, right_mask = best_masks
        first = [i for b, i in enumerate(left) if left_mask >> b & 1]
        first += [i for b, i in enumerate(right) if right_mask >> b & 1]
        chosen = set(first)
        second = [i for i in items if i not in chosen]
        for b, members in ((hi, first), (lo, second)):
            ordered_items = sorted(members, key=weights.__getitem__)
            self.ix[b] = ordered_items
            self.ws[b] = [weights[i] for i in ordered_items]
            self.loads[b] = math.fsum(self.ws[b])
        return True

    def _step(self, hi: int, lo: int, gap: float, eps: float) -> bool:
        """Apply the move or swap between ``hi`` and ``lo`` that best evens them, if any helps."""
        half = gap / 2
        hw, lw = self.ws[hi], self.ws[lo]
        best: tuple[float, int, int] | None = None  # (distance to half, pos in hi, pos in lo|-1)
        pos = bisect_left(hw, half)
        for p in (pos - 1, pos):
            if 0 <= p < len(hw) and eps < hw[p] < gap - eps:
                cand = (abs(hw[p] - half), p, -1)
                if best is None or cand < best:
                    best = cand
        if lw:
            previous = None
            for p, w in enumerate(hw):
                if w == previous or w <= eps:
                    continue
                previous = w
                want = w - half
                q0 = bisect_left(lw, want)
                for q in (q0 - 1, q0):
                    if 0 <= q < len(lw):
                        delta = w - lw[q]
                        if eps < delta < gap - eps:
                            cand = (abs(delta - half), p, q)
                            if best is None or cand < best:
                                best = cand
                if best is not None and best[0] <= eps:
                    break
        if best is None:
            return False
        _, p, q = best
        w_a, i_a = self.ws[hi].pop(p), self.ix[hi].pop(p)
        delta = w_a
        if q >= 0:
            w_b, i_b = self.ws[lo].pop(q), self.ix[lo].pop(q)
            self._insert(hi, w_b, i_b)
            delta -= w_b
        self._insert(lo, w_a, i_a)
        self.loads[hi] -= delta
        self.loads[lo] += delta
        return True

    def _insert(self, b: int, weight: float, index: int) -> None:
        at = bisect_left(self.ws[b], weight)
        self.ws[b].insert(at, weight)
        self.ix[b].insert(at, index)

    def bins(self) -> Groups:
        return [list(ix) for ix in self.ix]


def _subset_sums(values: list[float]) -> list[float]:
    """Sums of every subset; entry ``m`` is the sum of the values whose bit is set in ``m``."""
    sums = [0.0]
    for value in values:
        sums += [s + value for s in sums]
    return sums


def _improve(weights: Sequence[float], bins: Groups) -> Groups:
    """Local search down to the bound; then even out the bins the bound does not bind.

    When the bound is one long item (longer than the average), the bins beside it cannot shorten
    the makespan, but their balance still matters: equal shares leave slack against timing
    noise. So the bin holding the long item is set aside and the rest are evened out in turn.
    """
    done: Groups = []
    budget = 50 * len(weights) + 100_000
    while len(bins) >= 2 and budget > 0:
        total = math.fsum(weights[i] for b in bins for i in b)
        longest = max((weights[i] for b in bins for i in b), default=0.0)
        average = total / len(bins)
        bound = max(average, longest)
        if bound <= 0:
            break
        search = _Search(weights, bins)
        stop = bound * (1 + (SIDE_RTOL if done else STOP_RTOL))
        budget = search.run(stop=stop, eps=bound * 1e-12, budget=budget)
        bins = search.bins()
        hi = max(range(len(bins)), key=lambda b: (search.loads[b], -b))
        if longest <= average * (1 + STOP_RTOL) or search.loads[hi] > stop:
            break
        done.append(bins.pop(hi))
    return bins + done


def _chunks(weights: Sequence[float], items: list[int], count: int) -> Groups:
    """Cut ``items`` (in their order) into ``count`` runs of about equal weight.

    An oversized file cut into a few runs of neighbouring tests is paid for (module fixtures,
    imports) a few times, not once per shard it would be scattered over.
    """
    total = math.fsum(weights[i] for i in items)
    size = total / count if count > 1 else 0.0
    if size <= 0:  # also when the division underflows
        return [items]
    chunks: Groups = [[] for _ in range(count)]
    done = 0.0
    for i in items:
        middle = done + weights[i] / 2
        chunks[min(count - 1, int(middle / size))].append(i)
        done += weights[i]
    return [chunk for chunk in chunks if chunk]


def _grouped_bins(
    weights: Sequence[float],
    parts: int,
    groups: Sequence[int],
    group_costs: Sequence[float] | None = None,
) -> Groups:
    """Balance whole groups first; a group over ``GROUP_SHARE`` of a part is cut into runs.

    With ``group_costs`` every unit (a whole group or one run of it) weighs its cost too, and
    the share counts every cost once.
    """
    k = min(parts, len(weights))
    members: dict[int, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    cost = (lambda g: group_costs[g]) if group_costs is not None else (lambda g: 0.0)
    paid = math.fsum(cost(g) for g in members)
    target = (math.fsum(weights) + paid) / k * GROUP_SHARE if k else 0.0
    unit_items: list[list[int]] = []
    unit_weights: list[float] = []
    for group in sorted(members):
        items = members[group]
        weight = math.fsum(weights[i] for i in items)
        if 0 < target < weight and len(items) > 1:
            for chunk in _chunks(weights, items, math.ceil(weight / target)):
                unit_items.append(chunk)
                unit_weights.append(math.fsum(weights[i] for i in chunk) + cost(group))
        else:
            unit_items.append(items)
            unit_weights.append(weight + cost(group))
    unit_bins = _improve(unit_weights, _lpt_bins(unit_weights, k))
    bins = [[i for u in ub for i in unit_items[u]] for ub in unit_bins]
    bins.extend([] for _ in range(k - len(bins)))
    return _fill_empty(weights, bins)


def _exact_bins(weights: Sequence[float], parts: int, beat: float, eps: float) -> Groups | None:
    """Depth-first search for a partition with makespan below ``beat`` (small inputs only).

    Items go largest first; a bin whose load equals one already tried for this item is skipped
    (bins are interchangeable), and so is any step that reaches ``beat``. The search stops at
    the lower bound or after ``EXACT_NODES`` steps, so its cost is capped and deterministic.
    """
    k = min(parts, len(weights))
    order = sorted(range(len(weights)), key=weights.__getitem__, reverse=True)
    sizes = [weights[i] for i in order]
    bound = lower_bound(weights, parts) + eps
    loads = [0.0] * k
    chosen = [0] * len(order)
    best: list[int] | None = None
    limit = beat - eps
    nodes = 0
    smallest = sizes[-1]
    total = math.fsum(sizes)

    def place(at: int) -> bool:
        nonlocal best, limit, nodes
        if at == len(sizes):
            best = list(chosen)
            limit = max(loads) - eps
            return max(loads) <= bound
        nodes += 1
        if nodes > EXACT_NODES:
            return True
        # Room that no remaining item can use is lost for good: more than the slack, no luck.
        dead = math.fsum(limit - load for load in loads if load + smallest >= limit)
        if dead > k * limit - total:
            return False
        tried: set[float] = set()
        for b in sorted(range(k), key=loads.__getitem__):
            load = loads[b]
            if load in tried or load + sizes[at] >= limit:
                continue
            tried.add(load)
            loads[b] = load + sizes[at]
            chosen[at] = b
            done = place(at + 1)
            loads[b] = load
            if done:
                return True
        return False

    place(0)
    if best is None:
        return None
    bins: Groups = [[] for _ in range(k)]
    for at, b in enumerate(best):
        bins[b].append(order[at])
    return _fill_empty(weights, bins)


def _lpt(
    weights: Sequence[float],
    parts: int,
    groups: Sequence[int] | None = None,
    group_costs: Sequence[float] | None = None,
) -> Groups:
    return _finish(_lpt_bins(weights, parts))


def _balanced_with_costs(
    weights: Sequence[float], parts: int, groups: Sequence[int], group_costs: Sequence[float]
) -> Groups:
    """The starts of :func:`_balanced`, judged by their loads with the groups' costs."""
    starts: list[Callable[[], Groups]] = [
        lambda: _grouped_bins(weights, parts, groups, group_costs),
        lambda: _improve(weights, _lpt_bins(weights, parts)),
        lambda: _lpt_bins(weights, parts),  # the floor: never worse than LPT, costs counted
    ]
    if len(weights) * parts <= KK_MAX_WORK:
        starts.append(lambda: _improve(weights, _kk_bins(weights, parts)))
    stop = lower_bound_with_costs(weights, parts, groups, group_costs) * (1 + STOP_RTOL)
    best: Groups = []
    best_span = math.inf
    for start in starts:
        bins = start()
        span = max(loads_with_costs(weights, groups, group_costs, bins), default=0.0)
        if span < best_span:
            best, best_span = bins, span
        if span <= stop:
            break
    return _finish(best)


def _balanced(
    weights: Sequence[float],
    parts: int,
    groups: Sequence[int] | None = None,
    group_costs: Sequence[float] | None = None,
) -> Groups:
    if groups is not None and group_costs is not None and any(c > 0 for c in group_costs):
        return _balanced_with_costs(weights, parts, groups, group_costs)
    starts: list[Callable[[], Groups]] = []
    if groups is not None:
        starts.append(lambda: _grouped_bins(weights, parts, groups))
    starts.append(lambda: _lpt_bins(weights, parts))
    if len(weights) * parts <= KK_MAX_WORK:
        starts.append(lambda: _kk_bins(weights, parts))
    stop = lower_bound(weights, parts) * (1 + STOP_RTOL)
    best: Groups = []
    best_span = math.inf
    for start in starts:
        bins = _improve(weights, start())
        span = makespan(weights, bins)
        if span < best_span:
            best, best_span = bins, span
        if span <= stop:
            return _finish(best)
    if len(weights) <= EXACT_MAX_ITEMS and best_span > 0:
        # First look for a partition on the bound (tight room prunes hard), then for any better.
        eps = best_span * 1e-12
        for beat in (stop + 2 * eps, best_span):
            exact = _exact_bins(weights, parts, beat, eps)
            if exact is not None and makespan(weights, exact) < best_span:
                return _finish(exact)
    return _finish(best)


Implementation = Callable[
    [Sequence[float], int, "Sequence[int] | None", "Sequence[float] | None"], Groups
]


class Algorithm(enum.Enum):
    """The partitioning algorithms, all called as ``Algorithm.X(weights, parts, groups)``.

    ``groups`` (optional) gives each item a group id (its file): ``BALANCED`` then first tries to
    keep groups whole and moves single items only where balance needs it; ``LPT`` ignores it.
    ``group_costs`` (indexed by group id): what a part pays once per group it holds (see the
    module docstring); ``LPT`` ignores it too.
    """

    LPT = "lpt"
    BALANCED = "balanced"

    def __call__(
        self,
        weights: Sequence[float],
        parts: int,
        groups: Sequence[int] | None = None,
        group_costs: Sequence[float] | None = None,
    ) -> Groups:
        return _IMPLEMENTATIONS[self](weights, parts, groups, group_costs)


_IMPLEMENTATIONS: dict[Algorithm, Implementation] = {
    Algorithm.LPT: _lpt,
    Algorithm.BALANCED: _balanced,
}


def partition(
    weights: Sequence[float],
    parts: int,
    algorithm: Algorithm = Algorithm.BALANCED,
    groups: Sequence[int] | None = None,
    group_costs: Sequence[float] | None = None,
) -> Groups:
    """Split ``range(len(weights))`` into at most ``parts`` non-empty groups."""
    return algorithm(weights, parts, groups, group_costs)
