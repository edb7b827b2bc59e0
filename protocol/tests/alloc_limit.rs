//! Decoding never allocates more than a fixed bound set by the size limits and field caps,
//! whatever lengths the bytes declare: a peer cannot make the server reserve memory it
//! did not send. Measured with a counting global allocator, so this file is its own test
//! binary (the workspace denies `unsafe_code`; this allocator is its one exception).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::prelude::*;
use protocol::game::*;

struct Counting;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn note(bytes: usize) {
    let _ = TRACKING.try_with(|t| {
        if t.get() {
            let _ = ALLOCATED.try_with(|a| a.set(a.get() + bytes));
        }
    });
}

// SAFETY: forwards every call to the system allocator unchanged; it only adds up sizes in
// thread-local cells that need no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes allocated (in total, not net) while running `f` on this thread.
fn allocated_by<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCATED.with(|a| a.set(0));
    TRACKING.with(|t| t.set(true));
    let r = f();
    TRACKING.with(|t| t.set(false));
    (r, ALLOCATED.with(Cell::get))
}

/// The documented bound (`protocol/docs/wire-format.md`): four times the channel's limit.
const DATAGRAM_BOUND: usize = 4 * MAX_DATAGRAM_SIZE;
const STREAM_BOUND: usize = 4 * MAX_STREAM_MESSAGE_SIZE;

/// A datagram `Snapshot` header followed by a list length of `declared` elements.
fn snapshot_declaring(declared: u64) -> Vec<u8> {
    // tag 1 (Snapshot), tick 0, baseline None, last_input_seq 0, phase 0, ends_at 0
    let mut b = vec![1u8, 0, 0, 0, 0, 0];
    b.push(253); // u64 varint marker
    b.extend(declared.to_le_bytes());
    b.extend([0u8; 16]);
    b
}

#[test]
fn the_counter_sees_decoding_allocations() {
    // Control: a hello with a 200-byte session id must show at least those 200 bytes.
    let mut b = vec![0u8, 1, 200];
    b.extend([b'p'; 200]);
    b.push(0);
    let (res, used) = allocated_by(|| decode_stream_payload::<ClientMessage>(&b));
    assert!(res.is_ok(), "{res:?}");
    assert!(used >= 200, "allocated {used} bytes");
}

#[test]
fn huge_declared_lengths_allocate_nothing_like_them() {
    for declared in [65u64, 1 << 20, u64::from(u32::MAX), u64::MAX] {
        let bytes = snapshot_declaring(declared);
        let (res, used) = allocated_by(|| decode_datagram::<ServerMessage>(&bytes));
        assert!(matches!(res, Err(DecodeError::Malformed { .. })), "{res:?}");
        assert!(
            used <= DATAGRAM_BOUND,
            "declared {declared}: allocated {used} bytes"
        );
    }
    // The same for the player-delta list (after an empty player list).
    for declared in [65u64, 1 << 20, u64::MAX] {
        let mut bytes = snapshot_declaring(0);
        bytes.truncate(7);
        bytes[6] = 0; // players: none
        bytes.push(253);
        bytes.extend(declared.to_le_bytes());
        bytes.extend([0u8; 16]);
        let (res, used) = allocated_by(|| decode_datagram::<ServerMessage>(&bytes));
        assert!(matches!(res, Err(DecodeError::Malformed { .. })), "{res:?}");
        assert!(
            used <= DATAGRAM_BOUND,
            "declared {declared} deltas: allocated {used} bytes"
        );
    }
    // A stream frame declaring 4 GiB is refused from its header alone.
    let mut dec = StreamDecoder::<ClientMessage>::new();
    let header = u32::MAX.to_le_bytes();
    let (res, used) = allocated_by(|| dec.feed(&mut &header[..]));
    assert!(matches!(res, Err(DecodeError::TooLarge { .. })));
    assert!(used <= 1024, "allocated {used} bytes for a rejected header");
}

#[test]
fn a_string_cannot_claim_more_than_it_sends() {
    // Hello whose session id declares u32::MAX bytes.
    let mut b = vec![0u8, 1, 252];
    b.extend(u32::MAX.to_le_bytes());
    b.extend(b"psess");
    let (res, used) = allocated_by(|| decode_stream_payload::<ClientMessage>(&b));
    assert!(res.is_err());
    assert!(used <= STREAM_BOUND, "allocated {used} bytes");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_datagrams_stay_within_the_bound(bytes in proptest::collection::vec(any::<u8>(), 0..MAX_DATAGRAM_SIZE)) {
        let (_, used) = allocated_by(|| {
            let _ = decode_datagram::<ServerMessage>(&bytes);
            let _ = decode_datagram::<ClientMessage>(&bytes);
        });
        prop_assert!(used <= 2 * DATAGRAM_BOUND, "allocated {} bytes", used);
    }

    #[test]
    fn arbitrary_stream_payloads_stay_within_the_bound(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let (_, used) = allocated_by(|| {
            let _ = decode_stream_payload::<ServerMessage>(&bytes);
            let _ = decode_stream_payload::<ClientMessage>(&bytes);
        });
        prop_assert!(used <= 2 * STREAM_BOUND, "allocated {} bytes", used);
    }
}
