/**
 * Bottom-k selection in a short `Float64Array` (a report's few hundred body-bigram sampling keys):
 * the k smallest values first, in order, without sorting the rest. The engine needs the 60–96
 * smallest of about 300 keys; Node 20's native sort of all 300 doubles costs about 16 µs on the
 * project's 2-core machine, this selection about 2 µs (`bench/cluster/sort.ts`). Numbers only (no
 * NaN); ties are indistinguishable, so the first k equal the native sort's first k.
 *
 * Float64Array only, deliberately: the same functions called with a second array type run at
 * half speed (their element reads turn polymorphic), and for 32-bit codes the native sort wins.
 */

type Numbers = Float64Array;

/** Sorts `a[lo..hi)` ascending in place. */
export function sortRange(a: Numbers, lo = 0, hi = a.length): void {
  while (hi - lo > 16) {
    const p = partition(a, lo, hi);
    // Recurse into the smaller side, loop on the larger: stack depth stays O(log n).
    if (p - lo < hi - p) {
      sortRange(a, lo, p);
      lo = p;
    } else {
      sortRange(a, p, hi);
      hi = p;
    }
  }
  insertion(a, lo, hi);
}

/**
 * Rearranges `a[0..n)` so that its `k` smallest values come first, in ascending order (the rest
 * after them in no order): a bottom-k sample without sorting the whole array.
 */
export function smallestFirst(a: Numbers, n: number, k: number): void {
  if (k >= n) {
    sortRange(a, 0, n);
    return;
  }
  let lo = 0;
  let hi = n;
  // Quickselect: narrow to the range holding the k-th boundary.
  while (hi - lo > 16) {
    const p = partition(a, lo, hi);
    if (p === k) break;
    if (p < k) lo = p;
    else hi = p;
  }
  if (hi - lo <= 16) insertion(a, lo, hi);
  sortRange(a, 0, k);
}

/**
 * Hoare partition of `a[lo..hi)` (at least 3 elements) around the median of its first, middle
 * and last values: returns p with every `a[lo..p) ≤` every `a[p..hi)`, lo < p < hi.
 */
function partition(a: Numbers, lo: number, hi: number): number {
  const x = a[lo] as number;
  const y = a[(lo + hi) >>> 1] as number;
  const z = a[hi - 1] as number;
  const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
  let i = lo - 1;
  let j = hi;
  for (;;) {
    do i++;
    while ((a[i] as number) < pivot);
    do j--;
    while ((a[j] as number) > pivot);
    // The pivot is one of the values, so the scans stop inside the range and lo ≤ j < hi − 1.
    if (i >= j) return j + 1;
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
}

function insertion(a: Numbers, lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i] as number;
    let j = i - 1;
    while (j >= lo && (a[j] as number) > v) {
      a[j + 1] = a[j] as number;
      j--;
    }
    a[j + 1] = v;
  }
}
