//! Decoders that survive: for streams made by the real command-line tools and by our own
//! encoders, marshal at >= 50 random points and restore each state in a fresh process (this
//! test binary, re-executed) from the state file and the input at `consumed`; clone in-process
//! at the same points; and kill -9 a process that decodes while saving its state, then resume.
//! The resumed output must be byte-identical every time.

mod common;

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use codec::abi::*;
use codec::{Action, Decoder, Encoder, Format, Status};
use common::{encode_all, text, Rng};

const POINTS: usize = 50;

/// Where the child-process entry point reads its job.
const CHILD_ENV: &str = "CODEC_RESUME_CHILD";

fn data() -> Vec<u8> {
    // ~1.5 MB: a real file when the corpus is there (xml is text-like, mr binary), else text.
    let corpus = std::env::var("CODEC_CORPUS").unwrap_or_else(|_| "../shared/corpus".into());
    let unzip = |name: &str| {
        Command::new("unzip")
            .args(["-p", &format!("{corpus}/silesia/{name}.zip")])
            .output()
            .ok()
            .filter(|o| o.status.success() && !o.stdout.is_empty())
            .map(|o| o.stdout)
    };
    match (unzip("xml"), unzip("mr")) {
        (Some(x), Some(m)) => [&x[..1_000_000], &m[..500_000]].concat(),
        _ => text(1_500_000, 77),
    }
}

struct Stream {
    name: String,
    format: Format,
    /// Decoder parameters the stream needs (raw LZMA2's dictionary size).
    params: Vec<(codec_param, i64)>,
    bytes: Vec<u8>,
}

fn tool(dir: &Path, input: &Path, cmd: &str, args: &[&str]) -> Option<Vec<u8>> {
    let out = Command::new(cmd).args(args).arg("-c").arg(input).current_dir(dir).output().ok()?;
    out.status.success().then_some(out.stdout)
}

fn streams(dir: &Path, data: &[u8]) -> Vec<Stream> {
    let input = dir.join("input");
    std::fs::write(&input, data).unwrap();
    let mut v = Vec::new();
    let raw = vec![(CODEC_PARAM_XZ_DICT_SIZE, 1i64 << 20)];
    let cli: [(&str, &str, &[&str], Format, Vec<(codec_param, i64)>); 8] = [
        ("zstd -3", "zstd", &["-q", "-3"], Format::Zstd, vec![]),
        ("zstd -19", "zstd", &["-q", "-19"], Format::Zstd, vec![]),
        ("lz4 -1", "lz4", &["-q", "-1"], Format::Lz4Frame, vec![]),
        ("lz4 -9 -BD", "lz4", &["-q", "-9", "-BD"], Format::Lz4Frame, vec![]),
        ("xz -6", "xz", &["-6"], Format::Xz, vec![]),
        ("xz -9e --check=sha256", "xz", &["-9e", "--check=sha256"], Format::Xz, vec![]),
        ("xz --format=raw", "xz", &["--format=raw", "--lzma2=preset=6,dict=1MiB"], Format::Lzma2Raw, raw.clone()),
        ("xz --format=lzma", "xz", &["--format=lzma", "-6"], Format::LzmaAlone, vec![]),
    ];
    for (name, cmd, args, format, params) in cli {
        match tool(dir, &input, cmd, args) {
            Some(bytes) => v.push(Stream { name: name.into(), format, params, bytes }),
            None => eprintln!("{cmd} not available: skipping the '{name}' stream"),
        }
    }
    // Our own encoders, with flushes and frame ends in the middle where the format allows.
    for (format, params) in [
        (Format::Zstd, vec![(CODEC_PARAM_CHECKSUM, 1), (CODEC_PARAM_ZSTD_WINDOW_LOG, 17)]),
        (Format::Lz4Frame, vec![(CODEC_PARAM_LZ4_BLOCK_CHECKSUM, 1), (CODEC_PARAM_CHECKSUM, 1)]),
        (Format::Lz4Blocks, vec![]),
        (Format::Xz, vec![(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_XZ_DICT_SIZE, 1 << 18)]),
        (Format::Lzma2Raw, vec![(CODEC_PARAM_XZ_DICT_SIZE, 1 << 18)]),
        (Format::LzmaAlone, vec![(CODEC_PARAM_LEVEL, 2)]),
    ] {
        let mut e = Encoder::new(format).unwrap();
        for &(p, val) in &params {
            e.set_param(p, val).unwrap();
        }
        let mut bytes = Vec::new();
        let mut buf = vec![0u8; 1 << 20];
        let can_flush = format != Format::LzmaAlone;
        for (i, piece) in data.chunks(200_000).enumerate() {
            let action = match i % 3 {
                0 if can_flush => Action::Flush,
                2 if format != Format::Lzma2Raw => Action::Finish,
                _ => Action::Continue,
            };
            let mut pos = 0;
            loop {
                let s = e.encode(&piece[pos..], &mut buf, action);
                pos += s.read;
                bytes.extend_from_slice(&buf[..s.written]);
                if s.result.unwrap() == Status::Ok {
                    break;
                }
            }
        }
        bytes.extend(encode_all(&mut e, &[]));
        let dec_params = if format == Format::Lzma2Raw { vec![(CODEC_PARAM_XZ_DICT_SIZE, 1 << 18)] } else { vec![] };
        v.push(Stream { name: format!("ours {}", format.name()), format, params: dec_params, bytes });
    }
    v
}

fn decoder(s: &Stream) -> Decoder {
    let auto = matches!(s.format, Format::Zstd | Format::Xz) && s.name.contains('-');
    let mut d = Decoder::new(if auto { None } else { Some(s.format) }).unwrap();
    for &(p, v) in &s.params {
        d.set_param(p, v).unwrap();
    }
    d
}

/// Decode `input` with random chunks (up to `max_in`) and output limits (up to `max_out`).
fn decode_rest(d: &mut Decoder, input: &[u8], rng: &mut Rng, max_in: usize, max_out: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; max_out];
    let mut pos = 0;
    loop {
        let n = rng.range(0, max_in).min(input.len() - pos);
        let m = rng.range(1, max_out);
        let s = d.decode(&input[pos..pos + n], &mut buf[..m]);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        match s.result.unwrap_or_else(|e| panic!("decode failed at {pos}: {e}")) {
            Status::Ok if pos == input.len() && s.written == 0 => break,
            _ => {}
        }
    }
    assert!(d.at_frame_edge(), "stream ended inside a frame");
    out
}

/// The child process: restore the state in `$STATE`, continue with `$INPUT` from `consumed`,
/// write what it decodes to `$OUT`.
#[test]
#[ignore = "entry point of the child processes the other tests start"]
fn child_entry() {
    let Ok(job) = std::env::var(CHILD_ENV) else { return };
    let get = |k: &str| PathBuf::from(std::env::var(k).unwrap());
    let state = std::fs::read(get("STATE")).unwrap();
    let mut d = Decoder::unmarshal(&state, None).expect("unmarshal in the child");
    let (consumed, _) = d.position();
    let mut input = std::fs::File::open(get("INPUT")).unwrap();
    input.seek(SeekFrom::Start(consumed)).unwrap();
    let mut rest = Vec::new();
    input.read_to_end(&mut rest).unwrap();
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let out = decode_rest(&mut d, &rest, &mut Rng::new(seed), 70_000, 90_000);
    std::fs::write(get("OUT"), out).unwrap();
    assert_eq!(job, "resume");
}

fn child(state: &Path, input: &Path, out: &Path, seed: u64) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_entry", "--exact", "--ignored", "--quiet", "--test-threads=1"])
        .env(CHILD_ENV, "resume")
        .env("STATE", state)
        .env("INPUT", input)
        .env("OUT", out)
        .env("SEED", seed.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn every_format_resumes_in_a_fresh_process_at_random_points() {
    let dir = std::env::temp_dir().join(format!("codec-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = data();
    let all = streams(&dir, &data);
    assert!(all.len() >= 6);
    let mut rng = Rng::new(2026);
    for (si, s) in all.iter().enumerate() {
        let input = dir.join(format!("s{si}.in"));
        std::fs::write(&input, &s.bytes).unwrap();
        // One decode, stopped at POINTS random input positions; at each, save the state and
        // check a clone finishes identically; then restore every state in a fresh process.
        let mut cuts: Vec<usize> = (0..POINTS).map(|_| rng.range(0, s.bytes.len())).collect();
        cuts.sort_unstable();
        let mut d = decoder(s);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 100_000];
        let mut pos = 0;
        let mut jobs = Vec::new();
        for (k, &cut) in cuts.iter().enumerate() {
            while pos < cut {
                let n = rng.range(1, 40_000).min(cut - pos);
                let m = rng.range(1, 100_000);
                let st = d.decode(&s.bytes[pos..pos + n], &mut buf[..m]);
                pos += st.read;
                out.extend_from_slice(&buf[..st.written]);
                st.result.unwrap_or_else(|e| panic!("{}: {e}", s.name));
            }
            let state = d.marshal().unwrap_or_else(|e| panic!("{}: marshal: {e}", s.name));
            assert_eq!(d.position(), (pos as u64, out.len() as u64));
            if k % 10 == 0 {
                let mut c = d.try_clone().unwrap();
                let rest = decode_rest(&mut c, &s.bytes[pos..], &mut Rng::new(k as u64), 50_000, 70_000);
                assert!([&out[..], &rest[..]].concat() == data, "{}: clone at {pos} differs", s.name);
            }
            let sp = dir.join(format!("s{si}-{k}.state"));
            std::fs::write(&sp, &state).unwrap();
            let op = dir.join(format!("s{si}-{k}.out"));
            jobs.push((child(&sp, &input, &op, k as u64), op, out.len(), pos));
            // two children at a time on this 2-core machine
            if jobs.len() >= 2 {
                finish(&mut jobs, &data, &s.name);
            }
        }
        finish(&mut jobs, &data, &s.name);
        let rest = decode_rest(&mut d, &s.bytes[pos..], &mut rng, 60_000, 80_000);
        assert!([&out[..], &rest[..]].concat() == data, "{}: the uninterrupted decode differs", s.name);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Wait for the child processes and compare what each produced with the original's tail.
fn finish(jobs: &mut Vec<(std::process::Child, PathBuf, usize, usize)>, data: &[u8], name: &str) {
    for (mut c, op, produced, pos) in jobs.drain(..) {
        assert!(c.wait().unwrap().success(), "{name}: the child resuming at input {pos} failed");
        let rest = std::fs::read(&op).unwrap();
        assert!(rest == data[produced..], "{name}: resumed at input {pos} / output {produced}: output differs");
        std::fs::remove_file(&op).ok();
    }
}

/// A child that decodes slowly and saves its state (atomically) after every chunk, together
/// with its output so far; killed with SIGKILL at random moments and resumed from the last
/// state each time.
#[test]
fn kill_9_and_resume() {
    let dir = std::env::temp_dir().join(format!("codec-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = data();
    let mut rng = Rng::new(99);
    for s in streams(&dir, &data).iter().filter(|s| s.name.starts_with("ours") || s.name == "xz -6") {
        let input = dir.join("kill.in");
        std::fs::write(&input, &s.bytes).unwrap();
        let state = dir.join("kill.state");
        let out = dir.join("kill.out");
        std::fs::remove_file(&state).ok();
        std::fs::write(&out, b"").unwrap();
        // the first process starts from scratch
        let d = decoder(s);
        std::fs::write(&state, d.marshal().unwrap()).unwrap();
        let mut kills = 0;
        // Kills that found no new output: each widens the next wait, so a slow (loaded) machine
        // still makes progress while the kills stay at random moments.
        let mut stalls = 0;
        loop {
            let before = std::fs::read(&state).unwrap();
            let mut c = Command::new(std::env::current_exe().unwrap())
                .args(["slow_child_entry", "--exact", "--ignored", "--quiet", "--test-threads=1"])
                .env(CHILD_ENV, "slow")
                .env("STATE", &state)
                .env("INPUT", &input)
                .env("OUT", &out)
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(rng.range(20, 120) as u64 * (1 + stalls)));
            let killed = c.try_wait().unwrap().is_none();
            if killed {
                c.kill().unwrap(); // SIGKILL
                kills += 1;
            }
            let st = c.wait().unwrap();
            if st.success() {
                break;
            }
            assert!(killed, "{}: a child resuming from a saved state failed on its own ({st})", s.name);
            let progressed = std::fs::read(&state).unwrap() != before;
            stalls = if progressed { 0 } else { stalls + 1 };
            assert!(stalls < 20, "{}: no progress in {stalls} runs in a row ({kills} kills)", s.name);
        }
        assert!(std::fs::read(&out).unwrap() == data, "{}: output after {kills} kills differs", s.name);
        eprintln!("{}: identical after {kills} kill -9", s.name);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Child of `kill_9_and_resume`: resume from $STATE (truncate $OUT to `produced`, read $INPUT
/// from `consumed`), then decode in small steps, appending output and replacing the state
/// file atomically after each step.
#[test]
#[ignore = "entry point of the child processes kill_9_and_resume starts"]
fn slow_child_entry() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("slow") {
        return;
    }
    let get = |k: &str| PathBuf::from(std::env::var(k).unwrap());
    let (state_path, out_path) = (get("STATE"), get("OUT"));
    let mut d = Decoder::unmarshal(&std::fs::read(&state_path).unwrap(), None).unwrap();
    let (consumed, produced) = d.position();
    let input = std::fs::read(get("INPUT")).unwrap();
    let mut out = std::fs::OpenOptions::new().write(true).open(&out_path).unwrap();
    out.set_len(produced).unwrap();
    out.seek(SeekFrom::End(0)).unwrap();
    let mut pos = consumed as usize;
    let mut buf = vec![0u8; 8192];
    let tmp = state_path.with_extension("tmp");
    loop {
        let n = 4096.min(input.len() - pos);
        let s = d.decode(&input[pos..pos + n], &mut buf);
        pos += s.read;
        out.write_all(&buf[..s.written]).unwrap();
        let st = s.result.unwrap();
        // output first, then the state that accounts for it
        out.sync_data().unwrap();
        std::fs::write(&tmp, d.marshal().unwrap()).unwrap();
        std::fs::rename(&tmp, &state_path).unwrap();
        if st == Status::Ok && pos == input.len() && s.written == 0 {
            break;
        }
        std::thread::sleep(Duration::from_micros(300));
    }
}
