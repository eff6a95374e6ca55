//! The delta and x86 BCJ decoding filters, applied to LZMA2's output on its way from the
//! window to the caller. All state is plain data.
//!
//! A chain may hold any number of delta filters and at most one x86 filter. Deltas that the
//! decoder runs before the x86 filter are applied as bytes enter the x86 stage, the others
//! in place on the caller's buffer as bytes leave it.

use crate::error::{Error, Result};
use crate::state::{StateReader, StateWriter};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Delta {
    dist: u16,
    pos: u8,
    hist: [u8; 256],
}

impl Delta {
    pub fn new(dist: u32) -> Delta {
        Delta { dist: dist as u16, pos: 0, hist: [0; 256] }
    }

    #[inline]
    pub fn decode(&mut self, buf: &mut [u8]) {
        let dist = self.dist as usize;
        let mut pos = self.pos;
        for b in buf.iter_mut() {
            let v = b.wrapping_add(self.hist[(dist + pos as usize) & 0xFF]);
            *b = v;
            self.hist[pos as usize] = v;
            pos = pos.wrapping_sub(1);
        }
        self.pos = pos;
    }

    fn marshal(&self, w: &mut StateWriter) {
        w.u16(self.dist);
        w.u8(self.pos);
        w.raw(&self.hist);
    }

    fn unmarshal(r: &mut StateReader<'_>) -> Result<Delta> {
        let dist = r.u16("delta distance")?;
        if !(1..=256).contains(&dist) {
            return Err(Error::state(format!("delta distance {dist} outside 1..=256")));
        }
        Ok(Delta { dist, pos: r.u8("delta position")?, hist: r.array::<256>("delta history")? })
    }
}

/// x86 BCJ decoder. `buf` holds bytes that left the window but not yet the filter: the first
/// `ready` are converted, the rest (at most 4 when `ready` is 0) wait for lookahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct X86 {
    pos: u32,
    prev_mask: u32,
    prev_pos: u32,
    buf: [u8; 16],
    len: u8,
    ready: u8,
}

#[inline]
fn ms_byte(b: u8) -> bool {
    b == 0 || b == 0xFF
}

impl X86 {
    pub fn new(start_offset: u32) -> X86 {
        X86 { pos: start_offset, prev_mask: 0, prev_pos: 0u32.wrapping_sub(5), buf: [0; 16], len: 0, ready: 0 }
    }

    /// Convert `b` in place; returns how many leading bytes are final. The bytes after that
    /// (fewer than 5) are untouched and need lookahead.
    fn convert(&mut self, b: &mut [u8]) -> usize {
        const ALLOWED: [bool; 8] = [true, true, true, false, true, false, false, false];
        const BIT_NUMBER: [u32; 8] = [0, 1, 2, 2, 3, 3, 3, 3];
        if b.len() < 5 {
            return 0;
        }
        let now = self.pos;
        let mut prev_mask = self.prev_mask;
        let mut prev_pos = self.prev_pos;
        if now.wrapping_sub(prev_pos) > 5 {
            prev_pos = now.wrapping_sub(5);
        }
        let limit = b.len() - 5;
        let mut i = 0usize;
        while i <= limit {
            let op = b[i];
            if op != 0xE8 && op != 0xE9 {
                i += 1;
                continue;
            }
            let here = now.wrapping_add(i as u32);
            let offset = here.wrapping_sub(prev_pos);
            prev_pos = here;
            if offset > 5 {
                prev_mask = 0;
            } else {
                for _ in 0..offset {
                    prev_mask &= 0x77;
                    prev_mask <<= 1;
                }
            }
            let hi = b[i + 4];
            if ms_byte(hi) && ALLOWED[((prev_mask >> 1) & 7) as usize] && (prev_mask >> 1) < 0x10 {
                let mut src = u32::from_le_bytes([b[i + 1], b[i + 2], b[i + 3], hi]);
                let mut dest;
                loop {
                    dest = src.wrapping_sub(here.wrapping_add(5));
                    if prev_mask == 0 {
                        break;
                    }
                    let n = BIT_NUMBER[((prev_mask >> 1) & 7) as usize];
                    let t = (dest >> (24 - n * 8)) as u8;
                    if !ms_byte(t) {
                        break;
                    }
                    src = dest ^ ((1u32 << (32 - n * 8)) - 1);
                }
                b[i + 4] = !(((dest >> 24) & 1).wrapping_sub(1)) as u8;
                b[i + 3] = (dest >> 16) as u8;
                b[i + 2] = (dest >> 8) as u8;
                b[i + 1] = dest as u8;
                i += 5;
                prev_mask = 0;
            } else {
                i += 1;
                prev_mask |= 1;
                if ms_byte(hi) {
                    prev_mask |= 0x10;
                }
            }
        }
        self.prev_mask = prev_mask;
        self.prev_pos = prev_pos;
        self.pos = now.wrapping_add(i as u32);
        i
    }

    fn marshal(&self, w: &mut StateWriter) {
        w.u32(self.pos);
        w.u32(self.prev_mask);
        w.u32(self.prev_pos);
        w.bytes(&self.buf[..self.len as usize]);
        w.u8(self.ready);
    }

    fn unmarshal(r: &mut StateReader<'_>) -> Result<X86> {
        let pos = r.u32("x86 position")?;
        let prev_mask = r.u32_in("x86 mask", 0, 0xFF)?;
        let prev_pos = r.u32("x86 previous position")?;
        let b = r.bytes("x86 buffer", 16)?;
        let ready = r.u8_max("x86 ready bytes", b.len() as u8)?;
        if b.len() - ready as usize > 4 {
            return Err(Error::state("x86 buffer holds too many unconverted bytes"));
        }
        // The converter always leaves its position past the last call or jump it saw (it
        // starts 5 bytes past); equal positions would make it shift by 32.
        if pos == prev_pos {
            return Err(Error::state("x86 position equals the previous call position"));
        }
        let mut buf = [0u8; 16];
        buf[..b.len()].copy_from_slice(b);
        Ok(X86 { pos, prev_mask, prev_pos, buf, len: b.len() as u8, ready })
    }
}

/// The non-LZMA2 filters of a chain, in decoding order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Filters {
    pre: Vec<Delta>,
    x86: Option<X86>,
    post: Vec<Delta>,
}

/// One filter of a chain, as listed (encoding order) in a block header or set by parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FilterSpec {
    Delta(u32),
    X86(u32),
}

fn apply(ds: &mut [Delta], b: &mut [u8]) {
    for d in ds.iter_mut() {
        d.decode(b);
    }
}

impl Filters {
    /// Build the decoding side of a chain listed in encoding order (LZMA2 excluded).
    pub fn new(chain: &[FilterSpec]) -> Result<Filters> {
        let mut f = Filters::default();
        for spec in chain.iter().rev() {
            match *spec {
                FilterSpec::Delta(d) => {
                    if f.x86.is_some() {
                        f.post.push(Delta::new(d))
                    } else {
                        f.pre.push(Delta::new(d))
                    }
                }
                FilterSpec::X86(start) => {
                    if f.x86.is_some() {
                        return Err(Error::unsupported(
                            "filter chains with more than one x86 BCJ filter are not supported",
                        ));
                    }
                    f.x86 = Some(X86::new(start));
                }
            }
        }
        Ok(f)
    }

    /// True when converted bytes wait for room in the output.
    pub fn has_ready(&self) -> bool {
        self.x86.as_ref().is_some_and(|x| x.ready > 0)
    }

    /// True when bytes are held inside the filters.
    pub fn holds_output(&self) -> bool {
        self.x86.as_ref().is_some_and(|x| x.len > 0)
    }

    /// Move bytes from `inp` (window output) through the filters into `dst`; returns
    /// (consumed, produced).
    pub fn run(&mut self, inp: &[u8], dst: &mut [u8]) -> (usize, usize) {
        let Some(x) = self.x86.as_mut() else {
            let n = inp.len().min(dst.len());
            dst[..n].copy_from_slice(&inp[..n]);
            apply(&mut self.pre, &mut dst[..n]);
            apply(&mut self.post, &mut dst[..n]);
            return (n, n);
        };
        let (mut c, mut p) = (0, 0);
        loop {
            if x.ready > 0 {
                let n = (x.ready as usize).min(dst.len() - p);
                dst[p..p + n].copy_from_slice(&x.buf[..n]);
                apply(&mut self.post, &mut dst[p..p + n]);
                x.buf.copy_within(n..x.len as usize, 0);
                x.len -= n as u8;
                x.ready -= n as u8;
                p += n;
                if x.ready > 0 {
                    return (c, p);
                }
            }
            if c == inp.len() || p == dst.len() {
                return (c, p);
            }
            let room = dst.len() - p;
            let avail = inp.len() - c;
            let held = x.len as usize;
            if avail >= 16 && room >= 16 + held {
                // Convert straight in the caller's buffer.
                let n = avail.min(room - held);
                let region = &mut dst[p..p + held + n];
                region[..held].copy_from_slice(&x.buf[..held]);
                region[held..].copy_from_slice(&inp[c..c + n]);
                apply(&mut self.pre, &mut region[held..]);
                let done = x.convert(region);
                let tail = region.len() - done;
                x.buf[..tail].copy_from_slice(&region[done..]);
                x.len = tail as u8;
                x.ready = 0;
                apply(&mut self.post, &mut dst[p..p + done]);
                p += done;
                c += n;
                continue;
            }
            let n = (16 - held).min(avail);
            x.buf[held..held + n].copy_from_slice(&inp[c..c + n]);
            apply(&mut self.pre, &mut x.buf[held..held + n]);
            x.len += n as u8;
            c += n;
            let len = x.len as usize;
            let mut tmp = x.buf;
            let done = x.convert(&mut tmp[..len]);
            x.buf = tmp;
            x.ready = done as u8;
            if done == 0 && c == inp.len() {
                return (c, p);
            }
        }
    }

    /// At the end of the data: emit what the x86 filter still holds, unconverted. Returns
    /// (produced, all emitted).
    pub fn finish(&mut self, dst: &mut [u8]) -> (usize, bool) {
        let Some(x) = self.x86.as_mut() else {
            return (0, true);
        };
        x.ready = x.len;
        let (_, p) = self.run(&[], dst);
        (p, !self.holds_output())
    }

    pub fn marshal(&self, w: &mut StateWriter) {
        w.u8(self.pre.len() as u8);
        for d in &self.pre {
            d.marshal(w);
        }
        w.bool(self.x86.is_some());
        if let Some(x) = &self.x86 {
            x.marshal(w);
        }
        w.u8(self.post.len() as u8);
        for d in &self.post {
            d.marshal(w);
        }
    }

    pub fn unmarshal(r: &mut StateReader<'_>) -> Result<Filters> {
        let n = r.u8_max("pre-filter count", 3)?;
        let pre = (0..n).map(|_| Delta::unmarshal(r)).collect::<Result<Vec<_>>>()?;
        let x86 = if r.bool("x86 present")? { Some(X86::unmarshal(r)?) } else { None };
        let n = r.u8_max("post-filter count", 3)?;
        let post = (0..n).map(|_| Delta::unmarshal(r)).collect::<Result<Vec<_>>>()?;
        if x86.is_none() && !post.is_empty() {
            return Err(Error::state("delta post-filters without an x86 filter"));
        }
        if pre.len() + post.len() + x86.is_some() as usize > 3 {
            return Err(Error::state("filter chain too long"));
        }
        Ok(Filters { pre, x86, post })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reload(x: &X86) -> Result<X86> {
        crate::state::reload(|w| x.marshal(w), X86::unmarshal)
    }

    /// States no converter reaches are refused: the position equal to the last call's (the
    /// next E8 there would make the converter shift by 32 and, at the top of the address
    /// space, loop forever) and more than 4 unconverted bytes.
    #[test]
    fn x86_states_no_converter_reaches_are_refused() {
        let mut x = X86::new(0);
        let mut data = b"\xE8\x10\x00\x00\x00abc\xE8\x00\x00\x00\xFFxyz\xE9\x01\x02".to_vec();
        let done = x.convert(&mut data);
        assert!(done > 0 && x.pos != x.prev_pos);
        assert_eq!(reload(&x).unwrap(), x);
        let mut bad = x.clone();
        bad.prev_pos = bad.pos;
        bad.prev_mask = 0x10;
        assert!(reload(&bad).is_err(), "position equal to the previous call's");
        let mut bad = x.clone();
        (bad.len, bad.ready) = (9, 4);
        assert!(reload(&bad).is_err(), "five unconverted bytes");
        let mut ok = x.clone();
        (ok.len, ok.ready) = (8, 4);
        assert_eq!(reload(&ok).unwrap(), ok);
    }
}
