//! Helpers of the library's tests.

/// A xorshift generator of numbers below `n`: the same sequence for a seed, on every machine, so
/// a randomized test that fails fails again.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}
