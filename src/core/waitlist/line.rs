//! Where a confirmed signup stands in line, in a few store reads however long the line is.
//!
//! Confirming gives a signup the next number of its event (`seq`, from 1, first come first
//! served). Its place is its number minus the signups ahead of it that have left the line
//! (cancelled). Those are counted in a Fenwick tree (binary indexed tree) of store counters, one
//! counter per node: leaving adds 1 to at most [`DEPTH`] nodes, and "how many of numbers 1..=n
//! have left" reads at most [`DEPTH`] nodes, in one `get_many`.

/// Bits of a line number: a line holds up to 2^24 (16.7 million) confirmed signups.
pub const DEPTH: u32 = 24;

/// The largest line number.
pub const CAPACITY: u64 = 1 << DEPTH;

/// The nodes whose counters sum to "how many of numbers `1..=n` have left".
pub fn nodes_to_read(n: u64) -> Vec<u64> {
    let mut i = n.min(CAPACITY);
    let mut nodes = Vec::with_capacity(DEPTH as usize);
    while i > 0 {
        nodes.push(i);
        i &= i - 1; // drop the lowest set bit
    }
    nodes
}

/// The nodes to add 1 to when number `seq` leaves the line.
pub fn nodes_to_bump(seq: u64) -> Vec<u64> {
    let mut i = seq;
    let mut nodes = Vec::with_capacity(DEPTH as usize + 1);
    while i > 0 && i <= CAPACITY {
        nodes.push(i);
        i += i & i.wrapping_neg(); // add the lowest set bit
    }
    nodes
}

/// The place of number `seq` when `left_ahead` of the numbers before it have left.
pub fn place(seq: u64, left_ahead: u64) -> u64 {
    seq.saturating_sub(left_ahead).max(1)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Tree(HashMap<u64, u64>);
    impl Tree {
        fn leave(&mut self, seq: u64) {
            for n in nodes_to_bump(seq) {
                *self.0.entry(n).or_default() += 1;
            }
        }
        fn left_up_to(&self, n: u64) -> u64 {
            nodes_to_read(n).iter().map(|i| self.0.get(i).copied().unwrap_or(0)).sum()
        }
    }

    #[test]
    fn places_match_a_plain_count() {
        let mut tree = Tree(HashMap::new());
        let mut left = vec![false; 5001];
        // A deterministic spread of cancellations.
        for seq in (1..=5000u64).filter(|s| s % 7 == 3 || s % 11 == 0 || *s == 1) {
            tree.leave(seq);
            left[seq as usize] = true;
        }
        for seq in [1u64, 2, 3, 10, 11, 12, 999, 1000, 4096, 4097, 5000] {
            let expected = (1..seq).filter(|s| left[*s as usize]).count() as u64;
            assert_eq!(tree.left_up_to(seq - 1), expected, "seq {seq}");
        }
    }

    #[test]
    fn reads_and_writes_stay_small() {
        assert!(nodes_to_read(100_000).len() <= DEPTH as usize);
        assert!(nodes_to_read(CAPACITY - 1).len() == DEPTH as usize);
        assert!(nodes_to_bump(1).len() <= DEPTH as usize + 1);
        assert!(nodes_to_read(0).is_empty());
        assert!(nodes_to_bump(0).is_empty());
        assert!(nodes_to_bump(CAPACITY + 1).is_empty(), "beyond the line: nothing to count");
        assert_eq!(place(5, 2), 3);
        assert_eq!(place(1, 0), 1);
    }
}
