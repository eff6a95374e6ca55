//! The compressed payload of a .xz block, a raw LZMA2 stream or a .lzma file: the LZMA2 chunk
//! parser (or LZMA1 with a known or unknown size), the window, and the filters between the
//! window and the caller's buffer.

use super::filters::Filters;
use super::lzma::{Ev, LzmaDec, Window};
use crate::error::{Error, ErrorKind, Result};
use crate::state::{StateReader, StateWriter};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seq {
    Control,
    Unc1,
    Unc2,
    Comp0,
    Comp1,
    Props,
    Lzma,
    Copy,
}

const SEQS: [Seq; 8] = [Seq::Control, Seq::Unc1, Seq::Unc2, Seq::Comp0, Seq::Comp1, Seq::Props, Seq::Lzma, Seq::Copy];

#[derive(Clone, Debug)]
struct Lzma2 {
    seq: Seq,
    /// After the chunk sizes: `Props`, `Lzma` or `Copy`.
    next: Seq,
    unc: u32,
    comp: u32,
    need_dict_reset: bool,
    need_props: bool,
}

#[derive(Clone, Debug)]
enum Mode {
    Lzma2(Lzma2),
    /// .lzma: bytes still to produce when the header gave the size.
    Lzma1(Option<u64>),
}

/// What `Payload::run` stopped for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PStatus {
    NeedInput,
    OutputFull,
    /// The payload ended and all its output was delivered.
    End,
}

#[derive(Clone)]
pub(crate) struct Payload {
    win: Window,
    lz: LzmaDec,
    mode: Mode,
    filters: Filters,
    lz_done: bool,
    /// An error found while decoded output was still waiting for room: reported once that
    /// output is delivered, so what a caller receives does not depend on buffer sizes.
    deferred: Option<Error>,
}

fn corrupt(msg: impl std::fmt::Display) -> Error {
    Error::corrupt(format!("corrupt LZMA2 data: {msg}"))
}

/// lc/lp/pb from an LZMA properties byte; `None` when invalid (as liblzma: lc + lp <= 4).
pub(crate) fn decode_props(b: u8) -> Option<(u32, u32, u32)> {
    if b > (4 * 5 + 4) * 9 + 8 {
        return None;
    }
    let b = b as u32;
    let pb = b / (9 * 5);
    let lp = (b % 45) / 9;
    let lc = b % 9;
    (lc + lp <= 4).then_some((lc, lp, pb))
}

impl Payload {
    /// An LZMA2 payload. With a preset dictionary the window starts filled with it and the
    /// first chunk need not reset the dictionary (exactly as liblzma's raw decoder).
    pub fn lzma2(dict_size: u64, preset: Option<&[u8]>, filters: Filters) -> Result<Payload> {
        let mut win = Window::new(dict_size);
        let mut need_dict_reset = true;
        if let Some(d) = preset.filter(|d| !d.is_empty()) {
            win.preset(d)?;
            need_dict_reset = false;
        }
        Ok(Payload {
            win,
            lz: LzmaDec::new(),
            mode: Mode::Lzma2(Lzma2 {
                seq: Seq::Control,
                next: Seq::Control,
                unc: 0,
                comp: 0,
                need_dict_reset,
                need_props: true,
            }),
            filters,
            lz_done: false,
            deferred: None,
        })
    }

    /// A .lzma payload with its header's properties.
    pub fn lzma1(dict_size: u64, props: (u32, u32, u32), size: Option<u64>) -> Payload {
        let mut lz = LzmaDec::new();
        lz.reset(props.0, props.1, props.2);
        Payload {
            win: Window::new(dict_size),
            lz,
            mode: Mode::Lzma1(size),
            filters: Filters::default(),
            lz_done: false,
            deferred: None,
        }
    }

    /// Bytes the window has allocated so far.
    pub fn allocated(&self) -> usize {
        self.win.allocated()
    }

    /// Decode from `inp` into `dst`; returns (read, written, status). On an error, the output
    /// decoded before it is delivered first (as far as `dst` allows).
    pub fn run(&mut self, inp: &[u8], dst: &mut [u8]) -> (usize, usize, Result<PStatus>) {
        let (mut r, mut w) = (0, 0);
        let mut need_input = false;
        loop {
            if self.win.has_pending() || self.filters.has_ready() {
                let (c, p) = self.filters.run(self.win.pending(), &mut dst[w..]);
                self.win.consume(c);
                w += p;
            }
            if self.win.has_pending() || self.filters.has_ready() {
                return (r, w, Ok(PStatus::OutputFull));
            }
            if let Some(e) = self.deferred.take() {
                return (r, w, Err(e.at(r as i64)));
            }
            if self.lz_done {
                let (p, done) = self.filters.finish(&mut dst[w..]);
                w += p;
                let st = if done { PStatus::End } else { PStatus::OutputFull };
                return (r, w, Ok(st));
            }
            if need_input {
                return (r, w, Ok(PStatus::NeedInput));
            }
            if w == dst.len() {
                return (r, w, Ok(PStatus::OutputFull));
            }
            if let Err(e) = self.win.prepare(dst.len() - w) {
                return (r, w, Err(e));
            }
            let (c, res) = self.step(&inp[r..]);
            r += c;
            match res {
                Ok(Ev::NeedInput) => need_input = true,
                Ok(Ev::Limit) => {}
                Ok(Ev::Done) => self.lz_done = true,
                Err(e) => {
                    // Deliver what was decoded before the error first.
                    let (c, p) = self.filters.run(self.win.pending(), &mut dst[w..]);
                    self.win.consume(c);
                    w += p;
                    if self.win.has_pending() || self.filters.has_ready() {
                        self.deferred = Some(e);
                        return (r, w, Ok(PStatus::OutputFull));
                    }
                    return (r, w, Err(e.at(r as i64)));
                }
            }
        }
    }

    fn step(&mut self, inp: &[u8]) -> (usize, Result<Ev>) {
        let l2 = match &mut self.mode {
            Mode::Lzma1(left) => {
                let before = self.win.pending().len();
                let (c, r) = self.lz.decode(&mut self.win, inp, false, *left);
                let made = (self.win.pending().len() - before) as u64;
                if let Some(n) = left {
                    *n -= made;
                }
                return (c, r);
            }
            Mode::Lzma2(l2) => l2,
        };
        let mut ip = 0;
        loop {
            if l2.seq == Seq::Lzma {
                let k = (l2.comp as usize).min(inp.len() - ip);
                let before = self.win.pending().len();
                let (c, r) =
                    self.lz.decode(&mut self.win, &inp[ip..ip + k], k == l2.comp as usize, Some(l2.unc as u64));
                let made = self.win.pending().len() - before;
                ip += c;
                l2.comp -= c as u32;
                l2.unc -= made as u32;
                match r {
                    Ok(Ev::Done) => {
                        if l2.comp != 0 {
                            return (
                                ip,
                                Err(corrupt(format!("an LZMA chunk ended with {} compressed bytes unused", l2.comp))),
                            );
                        }
                        l2.seq = Seq::Control;
                        continue;
                    }
                    other => return (ip, other),
                }
            }
            if l2.seq == Seq::Copy {
                let k = (l2.comp as usize).min(inp.len() - ip);
                let n = self.win.write(&inp[ip..ip + k]);
                ip += n;
                l2.comp -= n as u32;
                if l2.comp == 0 {
                    l2.seq = Seq::Control;
                    continue;
                }
                return (ip, Ok(if n < k { Ev::Limit } else { Ev::NeedInput }));
            }
            let Some(&b) = inp.get(ip) else {
                return (ip, Ok(Ev::NeedInput));
            };
            match l2.seq {
                Seq::Control => {
                    if b == 0 {
                        return (ip + 1, Ok(Ev::Done));
                    }
                    let dict_reset = b >= 0xE0 || b == 1;
                    if dict_reset && self.win.has_pending() {
                        // Hand out the window before resetting it.
                        return (ip, Ok(Ev::Limit));
                    }
                    if dict_reset {
                        l2.need_props = true;
                        l2.need_dict_reset = true;
                    } else if l2.need_dict_reset {
                        return (
                            ip,
                            Err(corrupt(format!(
                                "the first chunk (control byte {b:#04x}) does not reset the dictionary"
                            ))),
                        );
                    }
                    if b >= 0x80 {
                        l2.unc = ((b & 0x1F) as u32) << 16;
                        l2.seq = Seq::Unc1;
                        if b >= 0xC0 {
                            l2.need_props = false;
                            l2.next = Seq::Props;
                        } else if l2.need_props {
                            return (
                                ip,
                                Err(corrupt(format!(
                                    "LZMA chunk (control byte {b:#04x}) without properties after a dictionary reset"
                                ))),
                            );
                        } else {
                            l2.next = Seq::Lzma;
                            if b >= 0xA0 {
                                self.lz.reset_state();
                            }
                        }
                    } else {
                        if b > 2 {
                            return (ip, Err(corrupt(format!("invalid control byte {b:#04x}"))));
                        }
                        l2.seq = Seq::Comp0;
                        l2.next = Seq::Copy;
                    }
                    if l2.need_dict_reset {
                        l2.need_dict_reset = false;
                        self.win.reset();
                        // The window moved: recompute its limit from the same room.
                        return (ip + 1, Ok(Ev::Limit));
                    }
                }
                Seq::Unc1 => {
                    l2.unc += (b as u32) << 8;
                    l2.seq = Seq::Unc2;
                }
                Seq::Unc2 => {
                    l2.unc += b as u32 + 1;
                    l2.seq = Seq::Comp0;
                }
                Seq::Comp0 => {
                    l2.comp = (b as u32) << 8;
                    l2.seq = Seq::Comp1;
                }
                Seq::Comp1 => {
                    l2.comp += b as u32 + 1;
                    l2.seq = l2.next;
                    if l2.next != Seq::Copy {
                        self.lz.reset_rc();
                    }
                }
                Seq::Props => {
                    let Some((lc, lp, pb)) = decode_props(b) else {
                        return (ip, Err(corrupt(format!("invalid properties byte {b:#04x}"))));
                    };
                    self.lz.reset(lc, lp, pb);
                    l2.seq = Seq::Lzma;
                }
                Seq::Lzma | Seq::Copy => unreachable!("handled above"),
            }
            ip += 1;
        }
    }

    pub fn marshal(&self, w: &mut StateWriter) {
        match &self.mode {
            Mode::Lzma2(l2) => {
                w.u8(0);
                w.u8(SEQS.iter().position(|&s| s == l2.seq).unwrap() as u8);
                w.u8(SEQS.iter().position(|&s| s == l2.next).unwrap() as u8);
                w.u32(l2.unc);
                w.u32(l2.comp);
                w.bool(l2.need_dict_reset);
                w.bool(l2.need_props);
            }
            Mode::Lzma1(left) => {
                w.u8(1);
                w.u64(left.unwrap_or(u64::MAX));
            }
        }
        self.win.marshal(w);
        self.lz.marshal(w);
        self.filters.marshal(w);
        w.bool(self.lz_done);
        w.bool(self.deferred.is_some());
        if let Some(e) = &self.deferred {
            w.u8(match e.kind {
                ErrorKind::Corrupt => 0,
                ErrorKind::NoMem => 1,
                ErrorKind::Unsupported => 2,
                _ => 3,
            });
            w.bytes(e.msg.as_bytes());
        }
    }

    /// `max_dict`: the largest dictionary the state may declare (the memory limit).
    pub fn unmarshal(r: &mut StateReader<'_>, max_dict: u64) -> Result<Payload> {
        let mode = match r.u8_max("payload kind", 1)? {
            0 => {
                let seq = SEQS[r.u8_max("LZMA2 sequence", 7)? as usize];
                let next = SEQS[r.u8_max("LZMA2 next sequence", 7)? as usize];
                let unc = r.u32_in("chunk uncompressed size", 0, 1 << 21)?;
                let comp = r.u32_in("chunk compressed size", 0, 1 << 16)?;
                let need_dict_reset = r.bool("need dictionary reset")?;
                let need_props = r.bool("need properties")?;
                if !matches!(next, Seq::Control | Seq::Props | Seq::Lzma | Seq::Copy) {
                    return Err(Error::state("invalid LZMA2 next sequence"));
                }
                // Properties are due after a dictionary reset: no LZMA chunk may start (or be
                // about to start after its sizes) without them.
                if (seq == Seq::Lzma || next == Seq::Lzma) && need_props {
                    return Err(Error::state("LZMA chunk without properties"));
                }
                Mode::Lzma2(Lzma2 { seq, next, unc, comp, need_dict_reset, need_props })
            }
            _ => {
                let left = r.u64("remaining size")?;
                Mode::Lzma1((left != u64::MAX).then_some(left))
            }
        };
        let win = Window::unmarshal(r, max_dict)?;
        // The LZMA state's distances must point into the window unless they are never read
        // again: after a dictionary reset (new properties must follow), and between a control
        // byte announcing new properties and the properties byte, which resets the state.
        let live = match &mode {
            Mode::Lzma2(l2) => {
                let props_pending = l2.next == Seq::Props
                    && matches!(l2.seq, Seq::Unc1 | Seq::Unc2 | Seq::Comp0 | Seq::Comp1 | Seq::Props);
                !l2.need_props && !props_pending
            }
            Mode::Lzma1(_) => true,
        };
        let lz = LzmaDec::unmarshal(r, live.then_some(&win))?;
        if let Mode::Lzma2(l2) = &mode {
            if l2.seq != Seq::Lzma && !lz.idle() {
                return Err(Error::state("LZMA symbol in progress outside an LZMA chunk"));
            }
        }
        let filters = Filters::unmarshal(r)?;
        let lz_done = r.bool("payload finished")?;
        let deferred = if r.bool("deferred error")? {
            let kind = match r.u8_max("deferred error kind", 3)? {
                0 => ErrorKind::Corrupt,
                1 => ErrorKind::NoMem,
                2 => ErrorKind::Unsupported,
                _ => ErrorKind::Internal,
            };
            let msg = r.bytes("deferred error message", 1024)?;
            // Messages are the library's own text: anything else would not marshal back as it was.
            let msg = std::str::from_utf8(msg).map_err(|_| Error::state("deferred error message is not UTF-8"))?;
            Some(Error::new(kind, msg.to_owned()))
        } else {
            None
        };
        Ok(Payload { win, lz, mode, filters, lz_done, deferred })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reload(p: &Payload) -> Result<Payload> {
        crate::state::reload(|w| p.marshal(w), |r| Payload::unmarshal(r, 1 << 20))
    }

    /// After a dictionary reset no LZMA chunk may start without new properties; a state that
    /// would start one (the sizes read, `next` = LZMA) kept the old distances unchecked and
    /// could index outside the window.
    #[test]
    fn an_lzma_chunk_without_properties_is_refused_at_every_step() {
        let fresh = Payload::lzma2(1 << 16, None, Filters::default()).unwrap();
        reload(&fresh).expect("a fresh payload reloads");
        for seq in [Seq::Control, Seq::Unc1, Seq::Unc2, Seq::Comp0, Seq::Comp1, Seq::Lzma] {
            let mut bad = fresh.clone();
            let Mode::Lzma2(l2) = &mut bad.mode else { unreachable!() };
            assert!(l2.need_props);
            (l2.seq, l2.next) = (seq, Seq::Lzma);
            assert!(reload(&bad).is_err(), "{seq:?} before an LZMA chunk without properties");
        }
    }

    /// A deferred error's message is the library's own text; other bytes would not marshal
    /// back as they were.
    #[test]
    fn a_deferred_message_must_be_utf8() {
        let mut p = Payload::lzma2(1 << 16, None, Filters::default()).unwrap();
        p.deferred = Some(Error::corrupt("bad chunk"));
        let mut w = StateWriter::new();
        p.marshal(&mut w);
        let mut b = w.into_inner();
        assert!(Payload::unmarshal(&mut StateReader::new(&b), 1 << 20).is_ok());
        *b.last_mut().unwrap() = 0xFF; // the message is the last field
        assert!(Payload::unmarshal(&mut StateReader::new(&b), 1 << 20).is_err());
    }
}
