//! A fixed pseudo-random sequence for the core's fuzz tests (xorshift64*): a failure is
//! reproducible from the seed and the iteration it names. `fuzz_iterations` sets how long they run:
//! a fixed count by default (seconds, for every `cargo test`), longer where
//! `TABTWIN_FUZZ_SECONDS` asks for it (CI's full tier gives each fuzzer a minute).

use std::time::Instant;

/// The iteration numbers of a fuzz loop: at least `min`, and on until `TABTWIN_FUZZ_SECONDS`
/// seconds have passed when that is set. The sequence stays the seeded one, so a longer run
/// only adds cases after the default ones.
pub fn fuzz_iterations(min: usize) -> impl Iterator<Item = usize> {
    let seconds = match std::env::var("TABTWIN_FUZZ_SECONDS") {
        Ok(text) => text
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .unwrap_or_else(|| panic!("TABTWIN_FUZZ_SECONDS={text:?}: expected a number of seconds like 60")),
        Err(_) => 0.0,
    };
    let start = Instant::now();
    (0..).take_while(move |&i| i < min || start.elapsed().as_secs_f64() < seconds)
}

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
