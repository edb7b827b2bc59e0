//! Who joined whose party: the check behind a ticket's `party` list.
//!
//! **What it is:** an in-memory map from each member to the leader whose party they
//! joined, with the members of each leader in joining order. A ticket may list exactly
//! the players whose leader is the caller (anything else is `403`).
//!
//! **What it is not:** durable or shared. Parties are forgotten on restart (members join
//! again) and each backend instance has its own; with several instances, a party must
//! be routed to one instance (or this map moved to Redis), like the matchmaking pools.

use std::collections::HashMap;

use protocol::http::Party;

/// The party registry.
#[derive(Debug, Default)]
pub struct Parties {
    leader_of: HashMap<String, String>,
    members: HashMap<String, Vec<String>>,
}

impl Parties {
    /// `member` joins `leader`'s party, leaving any party it was in; the party joined.
    pub fn join(&mut self, member: &str, leader: &str) -> Party {
        self.leave(member);
        self.leader_of.insert(member.to_owned(), leader.to_owned());
        self.members
            .entry(leader.to_owned())
            .or_default()
            .push(member.to_owned());
        self.party_led_by(leader)
    }

    /// `member` leaves the party it joined, if any; the party it leads.
    pub fn leave(&mut self, member: &str) -> Party {
        if let Some(leader) = self.leader_of.remove(member)
            && let Some(list) = self.members.get_mut(&leader)
        {
            list.retain(|m| m != member);
            if list.is_empty() {
                self.members.remove(&leader);
            }
        }
        self.party_led_by(member)
    }

    /// The leader of the party `member` joined.
    pub fn leader_of(&self, member: &str) -> Option<&str> {
        self.leader_of.get(member).map(String::as_str)
    }

    /// The party `player` joined, else the one it leads.
    pub fn party_of(&self, player: &str) -> Party {
        match self.leader_of(player) {
            Some(leader) => self.party_led_by(leader),
            None => self.party_led_by(player),
        }
    }

    fn party_led_by(&self, leader: &str) -> Party {
        Party {
            leader: leader.to_owned(),
            members: self.members.get(leader).cloned().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joining, switching and leaving keep both directions of the map in step.
    #[test]
    fn join_switch_leave() {
        let mut p = Parties::default();
        assert_eq!(p.join("b", "a").members, ["b"]);
        assert_eq!(p.join("c", "a").members, ["b", "c"]);
        assert_eq!(p.leader_of("b"), Some("a"));
        assert_eq!(p.join("b", "d").members, ["b"]);
        assert_eq!(p.party_of("a").members, ["c"]);
        assert_eq!(p.party_of("b").leader, "d");
        p.leave("c");
        assert_eq!(p.party_of("a").members, Vec::<String>::new());
        assert_eq!(p.leader_of("c"), None);
        assert!(!p.members.contains_key("a"));
    }
}
