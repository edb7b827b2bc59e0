//! Arbitrary bytes into the match-result verifier: must never panic, and must never
//! accept anything it did not sign (the fuzzer cannot forge an HMAC, so any `Ok` other
//! than for the seed document is a bug).
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::result::*;

fuzz_target!(|data: &[u8]| {
    let ring = Keyring::new("fuzz", &[0x42; 32]).expect("valid key");
    if let Ok(result) = ring.open(data) {
        // Only a byte-for-byte re-signing of the same result can verify.
        let signed = ring.sign(result).expect("a verified result is valid");
        assert!(ring.verify(&signed).is_ok());
    }
    let _ = ResultMessage::from_json(data);
});
