//! The LZMA decoder (used by LZMA2 chunks and by .lzma) and its window.
//!
//! Design (after xz-embedded): every piece of state between calls is plain data. A symbol is
//! decoded whole or not at all. While at least `MARGIN` input bytes remain, symbols are
//! decoded straight from the input slice with the range coder in locals (`fast`); near the
//! end of the input one symbol at a time goes through `slow`, which first "dry-runs" the
//! symbol (same code, probabilities not updated, nothing written) over the parked bytes plus
//! the new input to learn whether it is complete, and parks the bytes in `temp` if not. A
//! match cut short by the output limit leaves `pending` bytes to copy from `rep0`.

use crate::error::{try_alloc_zeroed, Error, Result};
use crate::state::{StateReader, StateWriter};

/// Bytes of input that always suffice for one symbol (the worst case is 21).
pub(crate) const MARGIN: usize = 32;
const TEMP_CAP: usize = 2 * MARGIN;
const TOP: u32 = 1 << 24;
const PROB_INIT: u16 = 1024;
/// First window allocation; it then doubles with actual output up to the dictionary size.
const WINDOW_START: usize = 64 << 10;

// ---------------------------------------------------------------------------------------
// Window

/// The LZ window. `buf` grows lazily up to `size`; `[start, pos)` is decoded but not yet
/// handed to the output; `full` bytes before `pos` may be referenced.
#[derive(Clone, Debug)]
pub(crate) struct Window {
    buf: Vec<u8>,
    size: usize,
    pos: usize,
    start: usize,
    full: usize,
    wrapped: bool,
    limit: usize,
}

/// liblzma's rule: at least 4096 bytes, rounded up to a multiple of 16.
pub(crate) fn window_size(dict_size: u64) -> u64 {
    (dict_size.max(4096) + 15) & !15
}

/// Most bytes the window for `dict_size` allocates while at most `n` bytes pass through it: it
/// starts at `WINDOW_START` and doubles only once full (or reaches its size).
pub(crate) fn window_alloc_max(dict_size: u64, n: u64) -> u64 {
    window_size(dict_size).min((WINDOW_START as u64).max(n.saturating_mul(2)))
}

impl Window {
    pub fn new(dict_size: u64) -> Window {
        Window {
            buf: Vec::new(),
            size: window_size(dict_size) as usize,
            pos: 0,
            start: 0,
            full: 0,
            wrapped: false,
            limit: 0,
        }
    }

    /// Bytes currently allocated.
    pub fn allocated(&self) -> usize {
        self.buf.len()
    }

    /// Pre-fill with the last `min(len, size)` bytes of a preset dictionary.
    pub fn preset(&mut self, d: &[u8]) -> Result<()> {
        let n = d.len().min(self.size);
        let cap = n.max(WINDOW_START.min(self.size));
        self.buf = try_alloc_zeroed(cap, "the LZMA window")?;
        self.buf[..n].copy_from_slice(&d[d.len() - n..]);
        self.pos = n;
        self.start = n;
        self.full = n;
        Ok(())
    }

    /// Decoded bytes not yet handed out.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.pos]
    }

    pub fn has_pending(&self) -> bool {
        self.start != self.pos
    }

    pub fn consume(&mut self, n: usize) {
        self.start += n;
    }

    /// LZMA2 dictionary reset; only when everything was handed out.
    pub fn reset(&mut self) {
        debug_assert!(self.start == self.pos);
        self.pos = 0;
        self.start = 0;
        self.full = 0;
        self.wrapped = false;
    }

    /// Make room for up to `room` new bytes (wrapping or growing the buffer); only when
    /// everything was handed out.
    pub fn prepare(&mut self, room: usize) -> Result<()> {
        if self.pos == self.buf.len() && self.start == self.pos {
            if self.buf.len() == self.size {
                self.pos = 0;
                self.start = 0;
                self.wrapped = true;
            } else {
                let n = (self.buf.len() * 2).max(WINDOW_START).min(self.size);
                self.buf
                    .try_reserve_exact(n - self.buf.len())
                    .map_err(|_| Error::nomem(format!("cannot grow the LZMA window to {n} bytes")))?;
                self.buf.resize(n, 0);
            }
        }
        self.limit = self.buf.len().min(self.pos.saturating_add(room));
        Ok(())
    }

    /// Copy raw bytes (an LZMA2 uncompressed chunk) into the window up to its limit.
    pub fn write(&mut self, src: &[u8]) -> usize {
        let n = src.len().min(self.limit - self.pos);
        self.buf[self.pos..self.pos + n].copy_from_slice(&src[..n]);
        self.pos += n;
        self.full = (self.full + n).min(self.size);
        n
    }

    pub fn marshal(&self, w: &mut StateWriter) {
        w.u64(self.size as u64);
        w.u64(self.pos as u64);
        w.u64(self.start as u64);
        w.u64(self.full as u64);
        w.bool(self.wrapped);
        if self.wrapped {
            w.bytes(&self.buf);
        } else {
            w.bytes(&self.buf[..self.pos]);
        }
    }

    /// Rebuild a window of at most `max_size` bytes (the restoring decoder's memory limit: a
    /// larger one fails with `MemLimit` before anything is allocated).
    pub fn unmarshal(r: &mut StateReader<'_>, max_size: u64) -> Result<Window> {
        // Dictionaries are at most 4 GiB - 1 in every LZMA container.
        let size = r.u64_in("window size", 4096, window_size(u32::MAX as u64))?;
        if size % 16 != 0 {
            return Err(Error::state("window size is not a multiple of 16"));
        }
        if size > max_size {
            return Err(Error::memlimit(format!(
                "the saved decoder's dictionary needs {size} bytes, over this decoder's memory limit of {max_size} bytes (raise CODEC_PARAM_MEMLIMIT before restoring)"
            )));
        }
        let size = size as usize;
        let pos = r.usize_max("window position", size)?;
        let start = r.usize_max("window drain position", pos)?;
        let full = r.usize_max("window fill", size)?;
        let wrapped = r.bool("window wrapped")?;
        let data = r.bytes("window contents", if wrapped { size } else { pos })?;
        let buf = if wrapped {
            if data.len() != size || full != size {
                return Err(Error::state("wrapped window must hold the whole dictionary"));
            }
            data.to_vec()
        } else {
            if data.len() != pos || full != pos {
                return Err(Error::state("window contents disagree with its position"));
            }
            let cap = pos.max(WINDOW_START.min(size));
            let mut b = try_alloc_zeroed(cap, "the LZMA window")?;
            b[..pos].copy_from_slice(data);
            b
        };
        Ok(Window { buf, size, pos, start, full, wrapped, limit: 0 })
    }
}

// ---------------------------------------------------------------------------------------
// Probabilities

#[derive(Clone)]
struct LenProbs {
    choice: u16,
    choice2: u16,
    low: [[u16; 8]; 16],
    mid: [[u16; 8]; 16],
    high: [u16; 256],
}

/// Probability tables; arrays are sized to powers of two so masked indices need no checks.
#[derive(Clone)]
struct Probs {
    is_match: [[u16; 16]; 16],
    is_rep: [u16; 16],
    is_rep0: [u16; 16],
    is_rep1: [u16; 16],
    is_rep2: [u16; 16],
    is_rep0_long: [[u16; 16]; 16],
    dist_slot: [[u16; 64]; 4],
    dist_special: [u16; 128],
    dist_align: [u16; 16],
    match_len: LenProbs,
    rep_len: LenProbs,
    /// 0x300 used per set; 0x400 so the matched-literal index can be masked.
    literal: [[u16; 0x400]; 16],
}

const LEN_INIT: LenProbs = LenProbs {
    choice: PROB_INIT,
    choice2: PROB_INIT,
    low: [[PROB_INIT; 8]; 16],
    mid: [[PROB_INIT; 8]; 16],
    high: [PROB_INIT; 256],
};

impl Probs {
    fn boxed() -> Box<Probs> {
        Box::new(Probs {
            is_match: [[PROB_INIT; 16]; 16],
            is_rep: [PROB_INIT; 16],
            is_rep0: [PROB_INIT; 16],
            is_rep1: [PROB_INIT; 16],
            is_rep2: [PROB_INIT; 16],
            is_rep0_long: [[PROB_INIT; 16]; 16],
            dist_slot: [[PROB_INIT; 64]; 4],
            dist_special: [PROB_INIT; 128],
            dist_align: [PROB_INIT; 16],
            match_len: LEN_INIT,
            rep_len: LEN_INIT,
            literal: [[PROB_INIT; 0x400]; 16],
        })
    }

    fn reset(&mut self) {
        self.visit(16, |p| *p = PROB_INIT);
    }

    /// Every live probability in a fixed order (the marshalled order): the 12 states, the
    /// 16 position states, the first `lit_sets` literal coders.
    fn visit(&mut self, lit_sets: usize, mut f: impl FnMut(&mut u16)) {
        for s in 0..12 {
            self.is_match[s].iter_mut().for_each(&mut f);
            self.is_rep0_long[s].iter_mut().for_each(&mut f);
            f(&mut self.is_rep[s]);
            f(&mut self.is_rep0[s]);
            f(&mut self.is_rep1[s]);
            f(&mut self.is_rep2[s]);
        }
        self.dist_slot.iter_mut().flatten().for_each(&mut f);
        self.dist_special[..114].iter_mut().for_each(&mut f);
        self.dist_align.iter_mut().for_each(&mut f);
        for l in [&mut self.match_len, &mut self.rep_len] {
            f(&mut l.choice);
            f(&mut l.choice2);
            l.low.iter_mut().flatten().for_each(&mut f);
            l.mid.iter_mut().flatten().for_each(&mut f);
            l.high.iter_mut().for_each(&mut f);
        }
        for set in self.literal[..lit_sets].iter_mut() {
            set[..0x300].iter_mut().for_each(&mut f);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Range decoder over a byte slice

struct Rc<'a> {
    range: u32,
    code: u32,
    buf: &'a [u8],
    ip: usize,
}

impl Rc<'_> {
    /// Past the end of `buf` it reads zeros and `ip` runs beyond `buf.len()`: the dry run's
    /// way of learning that a symbol needs more input.
    #[inline(always)]
    fn normalize(&mut self) {
        if self.range < TOP {
            let b = match self.buf.get(self.ip) {
                Some(&b) => b,
                None => 0,
            };
            self.ip += 1;
            self.range <<= 8;
            self.code = (self.code << 8) | b as u32;
        }
    }

    #[inline(always)]
    fn bit<const DRY: bool>(&mut self, p: &mut u16) -> u32 {
        self.normalize();
        let prob = *p as u32;
        let bound = (self.range >> 11) * prob;
        if self.code < bound {
            self.range = bound;
            if !DRY {
                *p = (prob + ((2048 - prob) >> 5)) as u16;
            }
            0
        } else {
            self.range -= bound;
            self.code -= bound;
            if !DRY {
                *p = (prob - (prob >> 5)) as u16;
            }
            1
        }
    }

    /// `bit` without data-dependent branches (for the poorly predictable literal bits).
    #[inline(always)]
    fn bit_bl<const DRY: bool>(&mut self, p: &mut u16) -> u32 {
        self.normalize();
        let prob = *p as u32;
        let bound = (self.range >> 11) * prob;
        let bit = (self.code >= bound) as u32;
        let mask = 0u32.wrapping_sub(bit);
        self.range = bound ^ (mask & (bound ^ self.range.wrapping_sub(bound)));
        self.code = self.code.wrapping_sub(bound & mask);
        if !DRY {
            // bit 0: p + ((2048 - p) >> 5); bit 1: p - (p >> 5).
            let d = (prob as i32 - (!mask & 2017) as i32) >> 5;
            *p = (prob as i32 - d) as u16;
        }
        bit
    }

    #[inline(always)]
    fn tree<const DRY: bool, const N: usize>(&mut self, probs: &mut [u16; N]) -> u32 {
        let mut m = 1usize;
        while m < N {
            m = (m << 1) | self.bit::<DRY>(&mut probs[m]) as usize;
        }
        (m - N) as u32
    }

    #[inline(always)]
    fn len<const DRY: bool>(&mut self, l: &mut LenProbs, ps: usize) -> u32 {
        if self.bit::<DRY>(&mut l.choice) == 0 {
            2 + self.tree::<DRY, 8>(&mut l.low[ps & 15])
        } else if self.bit::<DRY>(&mut l.choice2) == 0 {
            10 + self.tree::<DRY, 8>(&mut l.mid[ps & 15])
        } else {
            18 + self.tree::<DRY, 256>(&mut l.high)
        }
    }

    #[inline(always)]
    fn literal<const DRY: bool>(&mut self, probs: &mut [u16; 0x400]) -> u8 {
        let mut s = 1usize;
        for _ in 0..8 {
            s = (s << 1) | self.bit_bl::<DRY>(&mut probs[s & 0xFF]) as usize;
        }
        s as u8
    }

    #[inline(always)]
    fn literal_matched<const DRY: bool>(&mut self, probs: &mut [u16; 0x400], mb: u32) -> u8 {
        let mut s = 1u32;
        let mut off = 0x100u32;
        let mut mb = mb;
        for _ in 0..8 {
            mb <<= 1;
            let mbit = mb & off;
            let b = self.bit_bl::<DRY>(&mut probs[((off + mbit + s) & 0x3FF) as usize]);
            s = (s << 1) | b;
            // b = 1 keeps `mbit`, b = 0 keeps `!mbit`.
            off &= !(mbit ^ 0u32.wrapping_sub(b));
        }
        s as u8
    }

    #[inline(always)]
    fn direct(&mut self, n: u32) -> u32 {
        let mut v = 0u32;
        for _ in 0..n {
            self.normalize();
            self.range >>= 1;
            self.code = self.code.wrapping_sub(self.range);
            let t = 0u32.wrapping_sub(self.code >> 31);
            self.code = self.code.wrapping_add(self.range & t);
            v = (v << 1).wrapping_add(t.wrapping_add(1));
        }
        v
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sym {
    Lit(u8),
    Match(u32, u32),
    ShortRep,
    Rep(u8, u32),
    Eopm,
}

/// Decode one symbol (everything but applying it).
#[inline(always)]
fn symbol<const DRY: bool>(
    p: &mut Probs,
    rc: &mut Rc<'_>,
    state: usize,
    ps: usize,
    lit_ctx: impl FnOnce() -> (usize, u32),
) -> Sym {
    if rc.bit::<DRY>(&mut p.is_match[state & 15][ps & 15]) == 0 {
        let (lit, match_byte) = lit_ctx();
        let probs = &mut p.literal[lit & 15];
        let b = if state < 7 { rc.literal::<DRY>(probs) } else { rc.literal_matched::<DRY>(probs, match_byte) };
        return Sym::Lit(b);
    }
    match_symbol::<DRY>(p, rc, state, ps)
}

/// The rest of a symbol whose is-match bit was 1.
#[inline(always)]
fn match_symbol<const DRY: bool>(p: &mut Probs, rc: &mut Rc<'_>, state: usize, ps: usize) -> Sym {
    if rc.bit::<DRY>(&mut p.is_rep[state & 15]) == 0 {
        let len = rc.len::<DRY>(&mut p.match_len, ps);
        let ls = (len - 2).min(3) as usize;
        let slot = rc.tree::<DRY, 64>(&mut p.dist_slot[ls & 3]);
        let dist = if slot < 4 {
            slot
        } else {
            let footer = (slot >> 1) - 1;
            let base = (2 | (slot & 1)) << footer;
            if slot < 14 {
                let off = (base - slot) as usize;
                let mut m = 1usize;
                let mut d = base;
                for i in 0..footer {
                    let b = rc.bit::<DRY>(&mut p.dist_special[(off + m - 1) & 127]);
                    m = (m << 1) | b as usize;
                    d += b << i;
                }
                d
            } else {
                let mut d = base.wrapping_add(rc.direct(footer - 4) << 4);
                let mut m = 1usize;
                for i in 0..4 {
                    let b = rc.bit::<DRY>(&mut p.dist_align[m & 15]);
                    m = (m << 1) | b as usize;
                    d = d.wrapping_add(b << i);
                }
                d
            }
        };
        if dist == u32::MAX {
            rc.normalize();
            return Sym::Eopm;
        }
        return Sym::Match(len, dist);
    }
    let idx = if rc.bit::<DRY>(&mut p.is_rep0[state & 15]) == 0 {
        if rc.bit::<DRY>(&mut p.is_rep0_long[state & 15][ps & 15]) == 0 {
            return Sym::ShortRep;
        }
        0
    } else if rc.bit::<DRY>(&mut p.is_rep1[state & 15]) == 0 {
        1
    } else if rc.bit::<DRY>(&mut p.is_rep2[state & 15]) == 0 {
        2
    } else {
        3
    };
    Sym::Rep(idx, rc.len::<DRY>(&mut p.rep_len, ps))
}

// ---------------------------------------------------------------------------------------
// The decoder

/// Why `LzmaDec::decode` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ev {
    /// All input was used (possibly parked); more is needed.
    NeedInput,
    /// The window's limit was reached; drain it and call again.
    Limit,
    /// The data ended: the known size was reached, or the end marker was read.
    Done,
}

#[derive(Clone)]
pub(crate) struct LzmaDec {
    p: Box<Probs>,
    state: u32,
    reps: [u32; 4],
    lc: u32,
    lp: u32,
    pb: u32,
    range: u32,
    code: u32,
    init_left: u8,
    pending: u32,
    temp: [u8; TEMP_CAP],
    temp_len: u8,
}

fn corrupt(msg: &str) -> Error {
    Error::corrupt(format!("corrupt LZMA data: {msg}"))
}

impl LzmaDec {
    pub fn new() -> LzmaDec {
        LzmaDec {
            p: Probs::boxed(),
            state: 0,
            reps: [0; 4],
            lc: 3,
            lp: 0,
            pb: 2,
            range: u32::MAX,
            code: 0,
            init_left: 5,
            pending: 0,
            temp: [0; TEMP_CAP],
            temp_len: 0,
        }
    }

    /// New lc/lp/pb (validated by the caller: lc + lp <= 4, pb <= 4) and a state reset.
    pub fn reset(&mut self, lc: u32, lp: u32, pb: u32) {
        self.lc = lc;
        self.lp = lp;
        self.pb = pb;
        self.reset_state();
    }

    /// State reset with the current properties.
    pub fn reset_state(&mut self) {
        self.p.reset();
        self.state = 0;
        self.reps = [0; 4];
        self.pending = 0;
        self.reset_rc();
    }

    /// A new range-coded stretch (each LZMA2 LZMA chunk starts one).
    pub fn reset_rc(&mut self) {
        self.range = u32::MAX;
        self.code = 0;
        self.init_left = 5;
        self.temp_len = 0;
    }

    /// True when no symbol is half-read (nothing parked, no match to finish).
    pub fn idle(&self) -> bool {
        self.temp_len == 0 && self.pending == 0
    }

    /// Decode from `inp` into the window up to its limit. `size_left` is the exact number of
    /// bytes still to produce (`None`: unknown, an end marker ends the data). `inp_final`
    /// says no input will follow `inp` (the rest of an LZMA2 chunk is all there).
    /// Returns the bytes consumed (parked bytes count as consumed).
    pub fn decode(
        &mut self,
        win: &mut Window,
        inp: &[u8],
        inp_final: bool,
        size_left: Option<u64>,
    ) -> (usize, Result<Ev>) {
        let mut ip = 0;
        while self.init_left > 0 {
            let Some(&b) = inp.get(ip) else {
                if inp_final {
                    return (ip, Err(corrupt("chunk ended inside the range coder header")));
                }
                return (ip, Ok(Ev::NeedInput));
            };
            if self.init_left == 5 && b != 0 {
                return (ip, Err(corrupt("the first byte of the range coder is not 0")));
            }
            self.code = (self.code << 8) | b as u32;
            self.init_left -= 1;
            ip += 1;
        }
        let size_end = match size_left {
            Some(n) => win.pos.saturating_add(n.min(usize::MAX as u64) as usize),
            None => usize::MAX,
        };
        let limit = win.limit.min(size_end);
        loop {
            if self.pending > 0 {
                let n = (self.pending as usize).min(limit - win.pos);
                copy_match(&mut win.buf, win.pos, self.reps[0] as usize, n);
                win.pos += n;
                win.full = (win.full + n).min(win.size);
                self.pending -= n as u32;
                if self.pending > 0 {
                    if win.pos == size_end {
                        return (ip, Err(corrupt("a match runs past the end of the data")));
                    }
                    return (ip, Ok(Ev::Limit));
                }
            }
            if win.pos == size_end {
                if self.temp_len != 0 {
                    return (ip, Err(corrupt("input left inside the data")));
                }
                // liblzma normalises the range coder once more when known-size data ends;
                // matching it keeps the input accounting identical.
                if self.range < TOP {
                    let Some(&b) = inp.get(ip) else {
                        if inp_final {
                            return (ip, Err(corrupt("the data ends inside the range coder")));
                        }
                        return (ip, Ok(Ev::NeedInput));
                    };
                    ip += 1;
                    self.range <<= 8;
                    self.code = (self.code << 8) | b as u32;
                }
                if self.code != 0 {
                    return (ip, Err(corrupt("the range coder did not end cleanly")));
                }
                return (ip, Ok(Ev::Done));
            }
            if win.pos >= limit {
                return (ip, Ok(Ev::Limit));
            }
            let r = if self.temp_len == 0 && inp.len() - ip >= MARGIN {
                self.fast(win, inp, &mut ip, limit)
            } else {
                self.slow(win, inp, &mut ip, inp_final, limit)
            };
            match r {
                Ok(Some(ev)) => {
                    if ev == Ev::Done {
                        // End marker.
                        if size_left.is_some() {
                            return (ip, Err(corrupt("end marker in data of known size")));
                        }
                        if self.code != 0 {
                            return (ip, Err(corrupt("the range coder did not end cleanly")));
                        }
                    }
                    return (ip, Ok(ev));
                }
                Ok(None) => {}
                Err(e) => return (ip, Err(e)),
            }
        }
    }

    /// Apply a decoded symbol. `Ok(true)` on the end marker.
    #[inline(always)]
    fn apply(
        &mut self,
        sym: Sym,
        buf: &mut [u8],
        pos: &mut usize,
        full: &mut usize,
        size: usize,
        limit: usize,
    ) -> Result<bool> {
        let (len, dist) = match sym {
            Sym::Lit(b) => {
                buf[*pos] = b;
                *pos += 1;
                if *full < size {
                    *full += 1;
                }
                let s = self.state;
                self.state = if s < 4 {
                    0
                } else if s < 10 {
                    s - 3
                } else {
                    s - 6
                };
                return Ok(false);
            }
            Sym::Match(len, dist) => {
                if dist as usize >= *full {
                    return Err(corrupt(&format!(
                        "match distance {} is beyond the {} bytes of history",
                        dist as u64 + 1,
                        *full
                    )));
                }
                self.reps = [dist, self.reps[0], self.reps[1], self.reps[2]];
                self.state = if self.state < 7 { 7 } else { 10 };
                (len, dist)
            }
            Sym::ShortRep => {
                if *full == 0 {
                    return Err(corrupt("repeated match before any data"));
                }
                self.state = if self.state < 7 { 9 } else { 11 };
                (1, self.reps[0])
            }
            Sym::Rep(idx, len) => {
                if *full == 0 {
                    return Err(corrupt("repeated match before any data"));
                }
                let r = self.reps;
                self.reps = match idx {
                    0 => r,
                    1 => [r[1], r[0], r[2], r[3]],
                    2 => [r[2], r[0], r[1], r[3]],
                    _ => [r[3], r[0], r[1], r[2]],
                };
                self.state = if self.state < 7 { 8 } else { 11 };
                (len, self.reps[0])
            }
            Sym::Eopm => return Ok(true),
        };
        let n = (len as usize).min(limit - *pos);
        copy_match(buf, *pos, dist as usize, n);
        *pos += n;
        *full = (*full + n).min(size);
        self.pending = len - n as u32;
        Ok(false)
    }

    /// Literal coder index and match byte at `pos`.
    #[inline(always)]
    fn lit_ctx(&self, buf: &[u8], pos: usize, full: usize) -> (usize, u32) {
        let prev = if pos > 0 {
            buf[pos - 1]
        } else if full > 0 {
            buf[buf.len() - 1]
        } else {
            0
        } as usize;
        let lit = ((pos & ((1usize << self.lp) - 1)) << self.lc) + (prev >> (8 - self.lc));
        let mb = if self.state >= 7 {
            let d = self.reps[0] as usize;
            let src = if pos > d { pos - d - 1 } else { pos + buf.len() - d - 1 };
            buf[src] as u32
        } else {
            0
        };
        (lit, mb)
    }

    /// Symbols straight from `inp` while a whole symbol is surely there.
    #[inline(never)]
    fn fast(&mut self, win: &mut Window, inp: &[u8], ip: &mut usize, limit: usize) -> Result<Option<Ev>> {
        let mut rc = Rc { range: self.range, code: self.code, buf: inp, ip: *ip };
        let end = inp.len() - MARGIN;
        let size = win.size;
        let mut pos = win.pos;
        let mut full = win.full;
        let buf = &mut win.buf[..];
        let mut out = Ok(None);
        let pb_mask = (1usize << self.pb) - 1;
        let lp_mask = (1usize << self.lp) - 1;
        let lc = self.lc;
        while rc.ip <= end && pos < limit {
            let ps = pos & pb_mask;
            let state = self.state as usize;
            if rc.bit::<false>(&mut self.p.is_match[state & 15][ps & 15]) == 0 {
                // Literals inline: most symbols are literals.
                let prev = if pos > 0 {
                    buf[pos - 1]
                } else if full > 0 {
                    buf[buf.len() - 1]
                } else {
                    0
                } as usize;
                let lit = ((pos & lp_mask) << lc) + (prev >> (8 - lc));
                let probs = &mut self.p.literal[lit & 15];
                let b = if state < 7 {
                    rc.literal::<false>(probs)
                } else {
                    let d = self.reps[0] as usize;
                    let src = if pos > d { pos - d - 1 } else { pos + buf.len() - d - 1 };
                    rc.literal_matched::<false>(probs, buf[src] as u32)
                };
                buf[pos] = b;
                pos += 1;
                if full < size {
                    full += 1;
                }
                self.state = LIT_NEXT[state & 15] as u32;
                continue;
            }
            let sym = match_symbol::<false>(&mut self.p, &mut rc, state, ps);
            match self.apply(sym, buf, &mut pos, &mut full, size, limit) {
                Ok(false) => {
                    if self.pending > 0 {
                        break;
                    }
                }
                Ok(true) => {
                    out = Ok(Some(Ev::Done));
                    break;
                }
                Err(e) => {
                    out = Err(e);
                    break;
                }
            }
        }
        self.range = rc.range;
        self.code = rc.code;
        *ip = rc.ip;
        win.pos = pos;
        win.full = full;
        out
    }

    /// One symbol through the parking buffer.
    fn slow(
        &mut self,
        win: &mut Window,
        inp: &[u8],
        ip: &mut usize,
        inp_final: bool,
        limit: usize,
    ) -> Result<Option<Ev>> {
        let old = self.temp_len as usize;
        let n = (TEMP_CAP - old).min(inp.len() - *ip);
        self.temp[old..old + n].copy_from_slice(&inp[*ip..*ip + n]);
        let total = old + n;
        let ps = win.pos & ((1usize << self.pb) - 1);
        let (lit, mb) = self.lit_ctx(&win.buf, win.pos, win.full);
        let temp = self.temp;
        let mut rc = Rc { range: self.range, code: self.code, buf: &temp[..total], ip: 0 };
        symbol::<true>(&mut self.p, &mut rc, self.state as usize, ps, || (lit, mb));
        if rc.ip > total {
            if inp_final && *ip + n == inp.len() {
                return Err(corrupt("the data ends inside a symbol"));
            }
            if total == TEMP_CAP {
                return Err(Error::internal("LZMA symbol longer than the parking buffer"));
            }
            self.temp_len = total as u8;
            *ip += n;
            return Ok(Some(Ev::NeedInput));
        }
        let mut rc = Rc { range: self.range, code: self.code, buf: &temp[..total], ip: 0 };
        let sym = symbol::<false>(&mut self.p, &mut rc, self.state as usize, ps, || (lit, mb));
        self.range = rc.range;
        self.code = rc.code;
        let used = rc.ip;
        if used >= old {
            *ip += used - old;
            self.temp_len = 0;
        } else {
            self.temp.copy_within(used..old, 0);
            self.temp_len = (old - used) as u8;
        }
        let (mut pos, mut full) = (win.pos, win.full);
        let r = self.apply(sym, &mut win.buf, &mut pos, &mut full, win.size, limit);
        win.pos = pos;
        win.full = full;
        match r {
            Ok(true) => Ok(Some(Ev::Done)),
            Ok(false) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn marshal(&self, w: &mut StateWriter) {
        w.u8(self.lc as u8);
        w.u8(self.lp as u8);
        w.u8(self.pb as u8);
        w.u8(self.state as u8);
        for r in self.reps {
            w.u32(r);
        }
        w.u32(self.range);
        w.u32(self.code);
        w.u8(self.init_left);
        w.u32(self.pending);
        w.bytes(&self.temp[..self.temp_len as usize]);
        let mut probs = Vec::with_capacity(16 << 10);
        let sets = 1usize << (self.lc + self.lp);
        let mut p = self.p.clone();
        p.visit(sets, |v| probs.extend_from_slice(&v.to_le_bytes()));
        w.bytes(&probs);
    }

    /// Load and validate against the window it decodes into.
    pub fn unmarshal(r: &mut StateReader<'_>, win: Option<&Window>) -> Result<LzmaDec> {
        let lc = r.u8_max("lc", 4)? as u32;
        let lp = r.u8_max("lp", 4)? as u32;
        let pb = r.u8_max("pb", 4)? as u32;
        if lc + lp > 4 {
            return Err(Error::state("lc + lp exceeds 4"));
        }
        let state = r.u8_max("LZMA state", 11)? as u32;
        let mut reps = [0u32; 4];
        for v in reps.iter_mut() {
            *v = r.u32("rep distance")?;
        }
        let range = r.u32("range")?;
        let code = r.u32("code")?;
        let init_left = r.u8_max("range coder init bytes", 5)?;
        if init_left > 0 && (range != u32::MAX || (init_left == 5 && code != 0)) {
            return Err(Error::state("range coder half-initialised inconsistently"));
        }
        let pending = r.u32("pending match length")?;
        if pending > 273 {
            return Err(Error::state("pending match longer than 273 bytes"));
        }
        let t = r.bytes("parked input", TEMP_CAP - 1)?;
        if !t.is_empty() && init_left > 0 {
            return Err(Error::state("parked input before the range coder started"));
        }
        let sets = 1usize << (lc + lp);
        let want = (sets * 0x300 + PROBS_FIXED) * 2;
        let raw = r.bytes("probabilities", want)?;
        if raw.len() != want {
            return Err(Error::state("probability table has the wrong size"));
        }
        let mut p = Probs::boxed();
        let mut i = 0;
        let mut bad = false;
        p.visit(sets, |v| {
            let x = u16::from_le_bytes([raw[i], raw[i + 1]]);
            bad |= x == 0 || x >= 2048;
            *v = x;
            i += 2;
        });
        if bad {
            return Err(Error::state("probability outside 1..2047"));
        }
        // Distances the next symbols may read must lie inside the window's history. Without a
        // window (`None`: LZMA2 after a dictionary reset, which must be followed by a chunk with
        // new properties, resetting this state before any symbol is decoded) the distances are
        // those of the previous dictionary and never read, so they are not checked (the payload
        // refuses a symbol in progress there).
        if let Some(w) = win {
            let full = w.full as u64;
            for (k, &d) in reps.iter().enumerate() {
                if d != 0 && d as u64 >= full {
                    return Err(Error::state(format!("rep{k} distance beyond the window history")));
                }
            }
            if (state >= 7 || pending > 0) && reps[0] as u64 >= full {
                return Err(Error::state("match distance beyond the window history"));
            }
        }
        let mut temp = [0u8; TEMP_CAP];
        temp[..t.len()].copy_from_slice(t);
        Ok(LzmaDec { p, state, reps, lc, lp, pb, range, code, init_left, pending, temp, temp_len: t.len() as u8 })
    }
}

/// Next state after a literal.
const LIT_NEXT: [u8; 16] = [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 4, 5, 0, 0, 0, 0];

/// Probabilities outside the literal coders.
const PROBS_FIXED: usize = 12 * (16 + 16 + 4) + 4 * 64 + 114 + 16 + 2 * (2 + 128 + 128 + 256);

/// Copy `n` bytes from distance `dist` (0 = the previous byte) to `pos`. `dist` is below the
/// window's history, and `pos + n` within the buffer.
#[inline(always)]
fn copy_match(buf: &mut [u8], pos: usize, dist: usize, n: usize) {
    let cap = buf.len();
    let src = if pos > dist { pos - dist - 1 } else { pos + cap - dist - 1 };
    if src < pos && dist >= n {
        // Non-overlapping and not wrapped.
        if n <= 16 {
            let (a, b) = buf.split_at_mut(pos);
            b[..n].copy_from_slice(&a[src..src + n]);
        } else {
            buf.copy_within(src..src + n, pos);
        }
    } else if src < pos {
        // Overlapping run: byte by byte.
        for i in 0..n {
            buf[pos + i] = buf[src + i];
        }
    } else {
        let mut s = src;
        for i in 0..n {
            buf[pos + i] = buf[s];
            s += 1;
            if s == cap {
                s = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reload(w: &Window) -> Result<Window> {
        crate::state::reload(|s| w.marshal(s), |r| Window::unmarshal(r, 1 << 20))
    }

    /// The fill is the position until the window wraps, and the whole window after; any other
    /// fill would change which distances are accepted.
    #[test]
    fn window_fill_must_match_position_or_size() {
        let mut w = Window::new(4096);
        w.prepare(3000).unwrap();
        assert_eq!(w.write(&[7u8; 3000]), 3000);
        w.consume(3000);
        let ok = reload(&w).unwrap();
        assert_eq!((ok.pos, ok.full, ok.wrapped), (3000, 3000, false));
        let mut bad = w.clone();
        bad.full = 2000;
        assert!(reload(&bad).is_err(), "fill below the position");
        // wrap it
        w.prepare(1096).unwrap();
        w.write(&[8u8; 1096]);
        w.consume(1096);
        w.prepare(10).unwrap();
        assert!(w.wrapped && w.full == w.size);
        reload(&w).unwrap();
        let mut bad = w.clone();
        bad.full = 100;
        assert!(reload(&bad).is_err(), "a wrapped window that is not full");
    }

    #[test]
    fn window_size_is_at_most_4_gib() {
        let mut s = StateWriter::new();
        Window::new(4096).marshal(&mut s);
        let mut b = s.into_inner();
        assert!(Window::unmarshal(&mut StateReader::new(&b), u64::MAX).is_ok());
        b[..8].copy_from_slice(&(window_size(u32::MAX as u64) + 16).to_le_bytes()); // size comes first
        assert!(Window::unmarshal(&mut StateReader::new(&b), u64::MAX).is_err());
    }
}
