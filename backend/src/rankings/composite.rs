//! The composite score: a rating and "who got there first" in one exact `f64`.
//!
//! Redis orders a sorted set by one double. To break rating ties by the time a player
//! reached the rating (earlier first), both go into one integer below 2^53, which a
//! double holds exactly:
//!
//! ```text
//!   composite = q × 2^32 + (2^32 − 1 − s)
//!
//!   q = round((rating − RATING_MIN) × 100)        0 ..= 2_000_000   (< 2^21)
//!   s = reached_at − TIME_EPOCH (Unix seconds)    0 ..= 2^32 − 1
//! ```
//!
//! * **Rating:** quantised to 1/100 of a point over `RATING_MIN..=RATING_MAX`
//!   (−10 000.00 ..= +10 000.00), which holds Elo/Glicko scales (0–4000) and Weng-Lin's
//!   μ (around 25) with room for conservative values (`μ − 3σ`, possibly negative).
//! * **Time:** whole seconds since [`TIME_EPOCH`] (2020-01-01T00:00:00Z), 32 bits, so up
//!   to early 2156. Stored reversed, so an earlier time gives a larger composite.
//! * **Exactness:** the largest composite is `2_000_000 × 2^32 + 2^32 − 1 =
//!   2_000_001 × 2^32 − 1 < 2^21 × 2^32 = 2^53`. Every integer in `0..=2^53` is an
//!   `f64` exactly, so the conversion loses nothing, and two such doubles compare like
//!   the integers. Since the low part is below 2^32, comparing composites compares
//!   `(q, 2^32 − 1 − s)` lexicographically: higher rating first, then earlier time.
//!   Redis prints and parses these doubles exactly (they are integers), so the score
//!   read back from Redis is the one written.
//! * **Equal composites** (same rating to 1/100 and same second) are ordered by player
//!   id, highest bytes first: what `ZREVRANGE` does, and what the embedded store copies.
//! * **Out of range:** a rating outside the range or a time outside the 32-bit window
//!   is clamped to the nearest bound by [`Composite::encode_clamped`];
//!   [`Composite::encode`] reports it as a [`CompositeError`] carrying the clamped
//!   value, so the caller chooses to store the clamped value (the stores do, and log a
//!   warning) or to refuse. A NaN rating has no place on a board and is always an error.

use std::cmp::Ordering;

/// Lowest rating a board orders exactly: −10 000.00; lower ratings are clamped to it.
pub const RATING_MIN: f64 = -10_000.0;
/// Highest rating a board orders exactly: +10 000.00; higher ratings are clamped to it.
pub const RATING_MAX: f64 = 10_000.0;
/// Rating steps per point: ratings are quantised to 1/100.
pub const RATING_STEPS_PER_POINT: f64 = 100.0;
/// Largest quantised rating, `(RATING_MAX − RATING_MIN) × 100` = 2 000 000.
pub const MAX_QUANTISED_RATING: u64 = 2_000_000;
/// Bits of the composite holding the (reversed) time.
pub const TIME_BITS: u32 = 32;
/// The first second a composite can hold: 2020-01-01T00:00:00Z in Unix seconds. Earlier
/// times are clamped to it (they tie with it).
pub const TIME_EPOCH: u64 = 1_577_836_800;
/// The last second a composite can hold: `TIME_EPOCH + 2^32 − 1` (year 2156).
pub const TIME_MAX: u64 = TIME_EPOCH + TIME_SPAN - 1;
/// Largest composite: below 2^53, so exact in an `f64`.
pub const MAX_COMPOSITE: u64 = (MAX_QUANTISED_RATING << TIME_BITS) | (TIME_SPAN - 1);

const TIME_SPAN: u64 = 1 << TIME_BITS;
const _: () = assert!(MAX_COMPOSITE < 1 << 53);

/// What a board orders by: a rating and when the player reached it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Score {
    /// The rating for this board (after a decode: quantised to 1/100 of a point).
    pub rating: f64,
    /// When the player reached this rating, in Unix seconds (the match's end); the
    /// earlier of two equal ratings ranks higher.
    pub reached_at: u64,
}

impl Score {
    /// A score of `rating` reached at `reached_at` (Unix seconds).
    pub fn new(rating: f64, reached_at: u64) -> Self {
        Score { rating, reached_at }
    }
}

/// A rating and a time packed into one integer below 2^53 (see the module docs).
/// Larger is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Composite(u64);

/// Why a score could not be encoded as it is.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum CompositeError {
    /// The rating is NaN: it has no place on a board, and nothing is stored.
    #[error("the rating is NaN")]
    NotANumber,
    /// The rating or the time is outside what a composite holds; `clamped` is the
    /// nearest composite, which keeps the player's place among everyone inside the range.
    #[error(
        "score out of range (rating {rating} must be within {RATING_MIN}..={RATING_MAX}, \
         reached_at {reached_at} within {TIME_EPOCH}..={TIME_MAX}); clamped"
    )]
    OutOfRange {
        /// The rating given.
        rating: f64,
        /// The time given.
        reached_at: u64,
        /// The composite of the clamped score.
        clamped: Composite,
    },
    /// A stored score is not a composite (not an integer in `0..=MAX_COMPOSITE`): the
    /// key was written by something else.
    #[error("stored score {0} is not a composite score")]
    NotAComposite(f64),
}

impl Composite {
    /// The lowest composite: the lowest rating, reached as late as possible.
    pub const MIN: Composite = Composite(0);
    /// The highest composite: the highest rating, reached as early as possible.
    pub const MAX: Composite = Composite(MAX_COMPOSITE);

    /// Encodes a score exactly (up to the 1/100 quantisation), or says why not.
    ///
    /// # Errors
    ///
    /// [`CompositeError::NotANumber`] for a NaN rating; [`CompositeError::OutOfRange`]
    /// (with the clamped composite) when the rating or time is outside the range.
    pub fn encode(score: Score) -> Result<Composite, CompositeError> {
        match Self::encode_clamped(score) {
            (Some(composite), false) => Ok(composite),
            (Some(clamped), true) => Err(CompositeError::OutOfRange {
                rating: score.rating,
                reached_at: score.reached_at,
                clamped,
            }),
            (None, _) => Err(CompositeError::NotANumber),
        }
    }

    /// Encodes a score, clamping the rating to `RATING_MIN..=RATING_MAX` and the time to
    /// `TIME_EPOCH..=TIME_MAX`. Returns `None` for a NaN rating, and whether anything
    /// was clamped.
    pub fn encode_clamped(score: Score) -> (Option<Composite>, bool) {
        if score.rating.is_nan() {
            return (None, false);
        }
        let rating = score.rating.clamp(RATING_MIN, RATING_MAX);
        let reached_at = score.reached_at.clamp(TIME_EPOCH, TIME_MAX);
        let clamped = rating != score.rating || reached_at != score.reached_at;
        // Monotone in the rating: subtracting a constant, scaling and rounding never
        // reverse an order. The `min` guards the last rounding step at RATING_MAX.
        let q = (((rating - RATING_MIN) * RATING_STEPS_PER_POINT).round() as u64)
            .min(MAX_QUANTISED_RATING);
        let low = TIME_SPAN - 1 - (reached_at - TIME_EPOCH);
        (Some(Composite((q << TIME_BITS) | low)), clamped)
    }

    /// The score back: the rating quantised to 1/100, the time as given (or clamped).
    pub fn decode(self) -> Score {
        let q = self.0 >> TIME_BITS;
        let low = self.0 & (TIME_SPAN - 1);
        Score {
            rating: q as f64 / RATING_STEPS_PER_POINT + RATING_MIN,
            reached_at: TIME_EPOCH + (TIME_SPAN - 1 - low),
        }
    }

    /// The composite as the double Redis stores (exact: it is below 2^53).
    pub fn to_f64(self) -> f64 {
        self.0 as f64
    }

    /// Reads a double stored by [`Composite::to_f64`].
    ///
    /// # Errors
    ///
    /// [`CompositeError::NotAComposite`] when it is not an integer in
    /// `0..=MAX_COMPOSITE`.
    pub fn from_f64(value: f64) -> Result<Composite, CompositeError> {
        if value.fract() == 0.0 && (0.0..=MAX_COMPOSITE as f64).contains(&value) {
            Ok(Composite(value as u64))
        } else {
            Err(CompositeError::NotAComposite(value))
        }
    }

    /// The integer itself.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The composite of an integer, if it is within `0..=MAX_COMPOSITE`.
    pub fn from_u64(value: u64) -> Option<Composite> {
        (value <= MAX_COMPOSITE).then_some(Composite(value))
    }
}

/// The order of a board, best first: higher composite first; equal composites by player
/// id, highest bytes first (Redis's `ZREVRANGE` order).
pub fn board_order(a: (Composite, &str), b: (Composite, &str)) -> Ordering {
    b.0.cmp(&a.0)
        .then_with(|| b.1.as_bytes().cmp(a.1.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Ratings on the 1/100 grid inside the range, and times inside the window.
    fn exact_score() -> impl Strategy<Value = Score> {
        (-1_000_000i64..=1_000_000, TIME_EPOCH..=TIME_MAX)
            .prop_map(|(cents, t)| Score::new(cents as f64 / 100.0, t))
    }

    fn any_score() -> impl Strategy<Value = Score> {
        (-20_000.0f64..20_000.0, 0u64..TIME_MAX + 1_000_000).prop_map(|(r, t)| Score::new(r, t))
    }

    /// Higher rating first, then earlier time.
    fn expected(a: Score, b: Score) -> Ordering {
        b.rating
            .partial_cmp(&a.rating)
            .unwrap()
            .then(a.reached_at.cmp(&b.reached_at))
    }

    proptest! {
        #[test]
        fn composite_order_is_rating_desc_then_time_asc(a in exact_score(), b in exact_score()) {
            let (ca, cb) = (Composite::encode(a).unwrap(), Composite::encode(b).unwrap());
            prop_assert_eq!(cb.cmp(&ca), expected(a, b));
            // The doubles compare exactly like the integers.
            prop_assert_eq!(cb.to_f64().partial_cmp(&ca.to_f64()), Some(expected(a, b)));
        }

        #[test]
        fn decode_inverts_encode_on_the_grid(s in exact_score()) {
            let back = Composite::encode(s).unwrap().decode();
            prop_assert!((back.rating - s.rating).abs() < 1e-9, "{back:?} vs {s:?}");
            prop_assert_eq!(back.reached_at, s.reached_at);
        }

        #[test]
        fn decode_is_within_the_quantisation(r in RATING_MIN..=RATING_MAX, t in TIME_EPOCH..=TIME_MAX) {
            let back = Composite::encode(Score::new(r, t)).unwrap().decode();
            prop_assert!((back.rating - r).abs() <= 0.005 + 1e-9, "{} vs {r}", back.rating);
            prop_assert_eq!(back.reached_at, t);
        }

        #[test]
        fn encoding_never_reverses_an_order(a in any_score(), b in any_score()) {
            let (ca, _) = Composite::encode_clamped(a);
            let (cb, _) = Composite::encode_clamped(b);
            let (ca, cb) = (ca.unwrap(), cb.unwrap());
            // Dominance: at least as high a rating, reached no later, never ranks lower.
            if a.rating >= b.rating && a.reached_at <= b.reached_at { prop_assert!(ca >= cb); }
            // A rating higher by a full step ranks higher, whenever it was reached (if
            // neither was clamped).
            let inside = |s: Score| (RATING_MIN..=RATING_MAX).contains(&s.rating);
            if inside(a) && inside(b) && a.rating >= b.rating + 0.01 + 1e-9 { prop_assert!(ca > cb); }
        }

        #[test]
        fn f64_round_trip_is_exact(s in any_score()) {
            let c = Composite::encode_clamped(s).0.unwrap();
            prop_assert!(c.get() <= MAX_COMPOSITE);
            prop_assert_eq!(Composite::from_f64(c.to_f64()), Ok(c));
            prop_assert_eq!(c.to_f64().to_string().parse::<f64>().map(Composite::from_f64), Ok(Ok(c)));
        }
    }

    #[test]
    fn bounds_are_exact_and_distinct() {
        let top = Composite::encode(Score::new(RATING_MAX, TIME_EPOCH)).unwrap();
        let bottom = Composite::encode(Score::new(RATING_MIN, TIME_MAX)).unwrap();
        assert_eq!(top, Composite::MAX);
        assert_eq!(bottom, Composite::MIN);
        const { assert!(MAX_COMPOSITE < 1 << 53) };
        assert_eq!(Composite::MAX.to_f64() as u64, MAX_COMPOSITE);
        // One step below the top differs by one in the double too.
        let below = Composite::encode(Score::new(RATING_MAX, TIME_EPOCH + 1)).unwrap();
        assert_eq!(top.to_f64() - below.to_f64(), 1.0);
    }

    #[test]
    fn out_of_range_is_clamped_and_reported() {
        let high = Score::new(12_345.0, TIME_EPOCH + 10);
        match Composite::encode(high) {
            Err(CompositeError::OutOfRange { clamped, .. }) => {
                assert_eq!(clamped.decode(), Score::new(RATING_MAX, TIME_EPOCH + 10));
            }
            other => panic!("{other:?}"),
        }
        let early = Score::new(25.0, 0);
        let (c, clamped) = Composite::encode_clamped(early);
        assert!(clamped);
        assert_eq!(c.unwrap().decode(), Score::new(25.0, TIME_EPOCH));
        let infinite = Composite::encode_clamped(Score::new(f64::NEG_INFINITY, TIME_EPOCH));
        assert_eq!(
            infinite,
            (
                Some(Composite::encode(Score::new(RATING_MIN, TIME_EPOCH)).unwrap()),
                true
            )
        );
        assert_eq!(
            Composite::encode(Score::new(f64::NAN, TIME_EPOCH)),
            Err(CompositeError::NotANumber)
        );
    }

    #[test]
    fn foreign_scores_are_rejected() {
        for bad in [
            -1.0,
            0.5,
            MAX_COMPOSITE as f64 + 1.0,
            f64::NAN,
            f64::INFINITY,
        ] {
            assert!(Composite::from_f64(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn board_order_breaks_full_ties_by_player_id_descending() {
        let c = Composite::encode(Score::new(30.0, TIME_EPOCH)).unwrap();
        assert_eq!(board_order((c, "b"), (c, "a")), Ordering::Less);
        let better = Composite::encode(Score::new(30.01, TIME_EPOCH)).unwrap();
        assert_eq!(board_order((better, "a"), (c, "z")), Ordering::Less);
    }
}
