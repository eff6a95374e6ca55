//! Decoder-side history shared by the frame and block-stream decoders: the last 64 KiB of
//! output that the next LZ4 block may reference, kept as plain bytes so the whole decoder
//! state can be cloned and marshalled.
//!
//! During one decode call, blocks that fit are decoded straight into the caller's `dst`; the
//! history is then "the saved history followed by `dst[run..w]`" (the *run*). The run is
//! folded into the saved history once per call (`save_run`), or earlier when a block must be
//! decoded somewhere that is not contiguous with it.

use super::sys;

/// LZ4's window: a block references at most this many bytes before it.
pub(crate) const WINDOW: usize = 64 << 10;

/// Capacity of the history buffer: appending slides the window in place, and the last 64 KiB
/// are moved to the front only when this fills, so small blocks cost O(their size).
const HIST_CAP: usize = 2 * WINDOW;

/// The last ≤ 64 KiB of output before the current point.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    /// Output; only the last `WINDOW` bytes matter.
    own: Vec<u8>,
    /// The history is the dictionary's tail (not copied; `own` is empty).
    is_dict: bool,
}

impl History {
    /// Start a new stream: empty, or the dictionary tail when `with_dict`.
    pub fn start(&mut self, with_dict: bool) {
        self.own.clear();
        self.is_dict = with_dict;
    }

    /// The history bytes; `dict` is the dictionary tail of the stream (ignored unless the
    /// history still is the dictionary).
    pub fn get<'a>(&'a self, dict: &'a [u8]) -> &'a [u8] {
        if self.is_dict {
            dict
        } else {
            self.own()
        }
    }

    pub fn is_dict(&self) -> bool {
        self.is_dict
    }

    /// The last ≤ 64 KiB held in our own buffer (empty while the history is the dictionary).
    pub fn own(&self) -> &[u8] {
        &self.own[self.own.len().saturating_sub(WINDOW)..]
    }

    /// Whether `out`, decoded output not yet delivered, is the end of this history, as in
    /// every state a decoder reaches: a block decoded into an internal buffer joins the
    /// history whole before any of it is delivered. (A restored state whose pending output
    /// were not would deliver bytes that the next block cannot refer to.)
    pub fn ends_with(&self, out: &[u8]) -> bool {
        let k = out.len().min(WINDOW);
        k == 0 || (!self.is_dict && self.own().ends_with(&out[out.len() - k..]))
    }

    /// Restore from marshalled parts.
    pub fn restore(is_dict: bool, own: &[u8]) -> History {
        let mut h = History { own: Vec::new(), is_dict };
        if !own.is_empty() {
            h.own.reserve_exact(HIST_CAP);
            h.own.extend_from_slice(&own[own.len().saturating_sub(WINDOW)..]);
        }
        h
    }

    /// Append output that follows the history (only the last `WINDOW` bytes are kept).
    pub fn push(&mut self, data: &[u8], dict: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.own.capacity() < HIST_CAP {
            self.own.reserve_exact(HIST_CAP - self.own.len());
        }
        if data.len() >= WINDOW {
            self.own.clear();
            self.own.extend_from_slice(&data[data.len() - WINDOW..]);
            self.is_dict = false;
            return;
        }
        if self.is_dict {
            let keep = (WINDOW - data.len()).min(dict.len());
            self.own.clear();
            self.own.extend_from_slice(&dict[dict.len() - keep..]);
            self.is_dict = false;
        }
        if self.own.len() + data.len() > HIST_CAP {
            let keep = (WINDOW - data.len()).min(self.own.len());
            self.own.drain(..self.own.len() - keep);
        }
        self.own.extend_from_slice(data);
    }
}

/// Decode one block of a linked stream straight into `dst[w..w + cap]`. The history is `hist`
/// followed by `dst[*run..w]`: when the run alone covers the window (or there is no saved
/// history) LZ4's fast prefix mode decodes in place; otherwise the run is folded into `hist`
/// first and `hist` serves as an external dictionary.
pub(crate) fn decode_linked_direct(
    block: &[u8],
    dst: &mut [u8],
    w: usize,
    cap: usize,
    run: &mut usize,
    hist: &mut History,
    dict: &[u8],
) -> Option<usize> {
    let run_len = w - *run;
    if run_len >= WINDOW || hist.get(dict).is_empty() {
        sys::decompress_with_prefix(block, dst, w, run_len.min(WINDOW), cap)
    } else {
        if run_len > 0 {
            hist.push(&dst[*run..w], dict);
            *run = w;
        }
        sys::decompress_with_dict(block, &mut dst[w..w + cap], hist.get(dict))
    }
}

/// Fold the run `dst[*run..w]` into the saved history.
pub(crate) fn save_run(dst: &[u8], w: usize, run: &mut usize, hist: &mut History, dict: &[u8]) {
    if w > *run {
        hist.push(&dst[*run..w], dict);
    }
    *run = w;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_keeps_the_last_window() {
        let dict: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut h = History::default();
        h.start(true);
        assert_eq!(h.get(&dict), &dict[..]);
        h.push(b"abc", &dict);
        let mut want = dict.clone();
        want.extend_from_slice(b"abc");
        assert_eq!(h.get(&dict), &want[..]);
        let big: Vec<u8> = (0..WINDOW as u32 + 10).map(|i| (i * 7) as u8).collect();
        h.push(&big[..WINDOW - 5], &dict);
        want.extend_from_slice(&big[..WINDOW - 5]);
        assert_eq!(h.get(&dict), &want[want.len() - WINDOW..]);
        h.push(&big, &dict);
        assert_eq!(h.get(&dict), &big[10..]);
        // Many small pushes slide the window.
        let mut all = big[10..].to_vec();
        for i in 0..100_000u32 {
            let b = [(i % 251) as u8, (i % 13) as u8];
            h.push(&b, &dict);
            all.extend_from_slice(&b);
        }
        assert_eq!(h.get(&dict), &all[all.len() - WINDOW..]);
        assert_eq!(h.own().len(), WINDOW);
        let r = History::restore(false, h.own());
        assert_eq!(r.get(&dict), h.get(&dict));
    }
}
