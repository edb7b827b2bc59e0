//! Arbitrary bytes into every game-wire decoder: must never panic, and whatever decodes
//! must re-encode to bytes that decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::game::*;

fn check<M: Message + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(m) = decode_datagram::<M>(data) {
        let again = encode(&m).expect("a decoded message re-encodes");
        assert_eq!(decode_datagram::<M>(&again).expect("re-decodes"), m);
    }
    if let Ok(m) = decode_stream_payload::<M>(data) {
        let again = encode(&m).expect("a decoded message re-encodes");
        assert_eq!(decode_stream_payload::<M>(&again[FRAME_HEADER_LEN..]).expect("re-decodes"), m);
    }
    let mut dec = StreamDecoder::<M>::new();
    let mut input = data;
    while !input.is_empty() {
        if dec.feed(&mut input).is_err() {
            break;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check::<ClientMessage>(data);
    check::<ServerMessage>(data);
    let _ = peek_hello_version(data);
});
