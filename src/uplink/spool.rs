//! The agent's spool: every event bound for the board is written to disk
//! first (one file per call, JSON Lines) and kept until the board has
//! acknowledged it, so nothing is lost while the board is unreachable, the
//! board restarts, or this PC restarts mid-call (the spool is read back at
//! start and resent). Bounded: past `max_bytes` whole finished calls are
//! dropped, oldest first, and counted; the call in progress never is.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::analysis::AnalysisConfig;
use crate::events::{CallEnded, CallId, EndReason, Event, TimedEvent};
use crate::summary::SummaryBuilder;

/// Errors of the spool (disk full, permissions).
#[derive(Debug, thiserror::Error)]
#[error("spool {path}: {message}")]
pub struct SpoolError {
    /// The file or folder.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

struct CallSpool {
    file: Option<File>,
    /// Events not yet acknowledged, in seq order.
    pending: VecDeque<TimedEvent>,
    acked: u64,
    ended: bool,
    bytes: u64,
    /// Order of creation (older calls are dropped first).
    born: u64,
}

/// What the spool holds and has lost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpoolStats {
    /// Events waiting for the board.
    pub waiting: usize,
    /// Calls with events waiting.
    pub calls: usize,
    /// Bytes on disk.
    pub bytes: u64,
    /// Finished calls dropped because the spool was full.
    pub dropped_calls: u64,
    /// Events in them.
    pub dropped_events: u64,
}

/// The spool folder.
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    calls: BTreeMap<CallId, CallSpool>,
    next_born: u64,
    stats: SpoolStats,
    last_sync: Instant,
}

fn err(path: &Path, e: impl std::fmt::Display) -> SpoolError {
    SpoolError { path: path.to_path_buf(), message: e.to_string() }
}

impl Spool {
    /// Opens (creating) the folder and reads back what an earlier run left.
    /// A call that run never ended (the PC or the program stopped mid-call)
    /// is ended now, with its summary built from its events, so the board
    /// does not keep it live for ever.
    pub fn open(dir: &Path, max_bytes: u64, analysis: &AnalysisConfig) -> Result<Self, SpoolError> {
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
        let mut spool =
            Self { dir: dir.to_path_buf(), max_bytes, calls: BTreeMap::new(), next_born: 0, stats: SpoolStats::default(), last_sync: Instant::now() };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| err(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        // Oldest first: call ids are UUID v7, ordered by time.
        files.sort();
        for path in files {
            let Some(id) = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<CallId>().ok()) else {
                tracing::warn!("{}: not a spool file; left alone", path.display());
                continue;
            };
            let acked = std::fs::read_to_string(path.with_extension("ack")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0u64);
            let raw = std::fs::read(&path).map_err(|e| err(&path, e))?;
            let mut pending = VecDeque::new();
            let mut ended = false;
            let mut good = 0usize;
            let mut summary = SummaryBuilder::new();
            let (mut last_seq, mut last_t) = (0u64, 0.0f64);
            for (n, line) in raw.split_inclusive(|b| *b == b'\n').enumerate() {
                // A line cut short by a crash (no newline, or not an event)
                // ends what was written; the file is cut back to before it.
                let whole = line.ends_with(b"\n");
                let Some(ev) = std::str::from_utf8(line).ok().filter(|_| whole).and_then(|l| serde_json::from_str::<TimedEvent>(l.trim_end()).ok()) else {
                    tracing::warn!("{}:{}: line cut off (a crash mid-write?); dropped", path.display(), n + 1);
                    break;
                };
                good += line.len();
                ended |= matches!(ev.event, Event::CallEnded(_));
                summary.observe(ev.t, &ev.event);
                last_seq = last_seq.max(ev.seq.unwrap_or(0));
                last_t = last_t.max(ev.t);
                if ev.seq.is_some_and(|s| s > acked) {
                    pending.push_back(ev);
                }
            }
            if good < raw.len() {
                let f = OpenOptions::new().write(true).open(&path).map_err(|e| err(&path, e))?;
                f.set_len(good as u64).map_err(|e| err(&path, e))?;
            }
            let bytes = good as u64;
            let born = spool.next_born;
            spool.next_born += 1;
            spool.calls.insert(id, CallSpool { file: None, pending, acked, ended, bytes, born });
            if ended && spool.calls.get(&id).is_some_and(|c| c.pending.is_empty()) {
                spool.forget(id);
            } else if !ended && last_seq > 0 {
                tracing::warn!(call = %id, "the call was cut off by a stop of this PC or program; it is ended now");
                let end = CallEnded { reason: EndReason::Shutdown, summary: summary.finish(last_t, analysis) };
                spool.append(TimedEvent::in_call(id, last_seq + 1, last_t, Event::CallEnded(Box::new(end))))?;
            }
        }
        spool.recount();
        Ok(spool)
    }

    fn paths(&self, id: CallId) -> (PathBuf, PathBuf) {
        let base = self.dir.join(id.to_string());
        (base.with_extension("jsonl"), base.with_extension("ack"))
    }

    fn recount(&mut self) {
        self.stats.waiting = self.calls.values().map(|c| c.pending.len()).sum();
        self.stats.calls = self.calls.values().filter(|c| !c.pending.is_empty()).count();
        self.stats.bytes = self.calls.values().map(|c| c.bytes).sum();
    }

    /// Writes an event of a call to disk and queues it for the board.
    pub fn append(&mut self, ev: TimedEvent) -> Result<(), SpoolError> {
        let Some(id) = ev.call_id else { return Ok(()) };
        let (path, _) = self.paths(id);
        let born = self.next_born;
        let entry = self.calls.entry(id).or_insert_with(|| CallSpool { file: None, pending: VecDeque::new(), acked: 0, ended: false, bytes: 0, born });
        if entry.born == born {
            self.next_born += 1;
        }
        if entry.file.is_none() {
            entry.file = Some(OpenOptions::new().create(true).append(true).open(&path).map_err(|e| err(&path, e))?);
        }
        let mut line = serde_json::to_string(&ev).map_err(|e| err(&path, e))?;
        line.push('\n');
        if let Some(f) = entry.file.as_mut() {
            // Into the OS at once (survives the process); to the disk at the
            // next sync (survives a power cut within about a second).
            f.write_all(line.as_bytes()).map_err(|e| err(&path, e))?;
        }
        entry.bytes += line.len() as u64;
        entry.ended |= matches!(ev.event, Event::CallEnded(_));
        entry.pending.push_back(ev);
        if entry.ended {
            if let Some(f) = entry.file.take() {
                f.sync_data().map_err(|e| err(&path, e))?;
            }
        }
        self.enforce_bound(id);
        self.recount();
        if self.last_sync.elapsed().as_secs() >= 1 {
            self.sync()?;
        }
        Ok(())
    }

    /// Flushes the open files to disk.
    pub fn sync(&mut self) -> Result<(), SpoolError> {
        self.last_sync = Instant::now();
        for (id, c) in &self.calls {
            if let Some(f) = &c.file {
                f.sync_data().map_err(|e| err(&self.dir.join(id.to_string()), e))?;
            }
        }
        Ok(())
    }

    /// Over the bound: drop whole finished calls, oldest first (not `keep`).
    fn enforce_bound(&mut self, keep: CallId) {
        while self.calls.values().map(|c| c.bytes).sum::<u64>() > self.max_bytes {
            let oldest = self.calls.iter().filter(|(id, c)| **id != keep && c.ended).min_by_key(|(_, c)| c.born).map(|(id, _)| *id);
            let Some(id) = oldest else { break };
            let n = self.calls.get(&id).map_or(0, |c| c.pending.len());
            tracing::warn!(call = %id, events = n, "the spool is full: dropping the oldest finished call");
            self.stats.dropped_calls += 1;
            self.stats.dropped_events += n as u64;
            self.forget(id);
        }
    }

    fn forget(&mut self, id: CallId) {
        self.calls.remove(&id);
        let (a, b) = self.paths(id);
        let _ = std::fs::remove_file(a);
        let _ = std::fs::remove_file(b);
    }

    /// The board has stored events 1..=seq of a call.
    pub fn ack(&mut self, id: CallId, seq: u64) -> Result<(), SpoolError> {
        let (_, ack_path) = self.paths(id);
        let Some(c) = self.calls.get_mut(&id) else { return Ok(()) };
        if seq <= c.acked {
            return Ok(());
        }
        c.acked = seq;
        while c.pending.front().is_some_and(|e| e.seq.is_some_and(|s| s <= seq)) {
            c.pending.pop_front();
        }
        if c.ended && c.pending.is_empty() {
            self.forget(id);
        } else {
            let tmp = ack_path.with_extension("ack.tmp");
            std::fs::write(&tmp, seq.to_string()).and_then(|()| std::fs::rename(&tmp, &ack_path)).map_err(|e| err(&ack_path, e))?;
        }
        self.recount();
        Ok(())
    }

    /// Up to `max` events waiting, oldest call first, each call in seq order.
    pub fn batch(&self, max: usize) -> Vec<TimedEvent> {
        let mut calls: Vec<&CallSpool> = self.calls.values().filter(|c| !c.pending.is_empty()).collect();
        calls.sort_by_key(|c| c.born);
        calls.iter().flat_map(|c| c.pending.iter()).take(max).cloned().collect()
    }

    /// What the spool holds.
    pub fn stats(&self) -> SpoolStats {
        self.stats
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{StatusEvent, StatusKind};

    fn ev(call: CallId, seq: u64) -> TimedEvent {
        TimedEvent::in_call(call, seq, seq as f64, Event::Status(StatusEvent { kind: StatusKind::Lagging, speaker: None, message: "x".repeat(50) }))
    }

    fn end(call: CallId, seq: u64) -> TimedEvent {
        let summary = crate::summary::SummaryBuilder::new().finish(1.0, &crate::analysis::AnalysisConfig::default());
        TimedEvent::in_call(call, seq, seq as f64, Event::CallEnded(Box::new(CallEnded { reason: EndReason::Silence, summary })))
    }

    #[test]
    fn events_survive_a_restart_until_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let call = CallId::new();
        {
            let mut s = Spool::open(dir.path(), 1 << 20, &AnalysisConfig::default()).unwrap();
            for i in 1..=5 {
                s.append(ev(call, i)).unwrap();
            }
            s.ack(call, 2).unwrap();
            assert_eq!(s.stats().waiting, 3);
        }
        let mut s = Spool::open(dir.path(), 1 << 20, &AnalysisConfig::default()).unwrap();
        let batch = s.batch(100);
        let seqs: Vec<u64> = batch.iter().map(|e| e.seq.unwrap()).collect();
        assert_eq!(seqs, vec![3, 4, 5, 6], "what was acknowledged is not sent again; the cut-off call is ended");
        assert!(matches!(&batch[3].event, Event::CallEnded(e) if e.reason == EndReason::Shutdown));
        s.ack(call, 6).unwrap();
        assert_eq!(s.stats().waiting, 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a finished, acknowledged call leaves no file");
    }

    #[test]
    fn a_line_cut_by_a_crash_is_dropped_and_the_file_continues_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let call = CallId::new();
        {
            let mut s = Spool::open(dir.path(), 1 << 20, &AnalysisConfig::default()).unwrap();
            s.append(ev(call, 1)).unwrap();
        }
        let path = dir.path().join(format!("{call}.jsonl"));
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"v\":2,\"call_id\":\"").unwrap();
        drop(f);
        drop(Spool::open(dir.path(), 1 << 20, &AnalysisConfig::default()).unwrap());
        // Read back again: the cut line is gone, the call's end follows event 1.
        let s = Spool::open(dir.path(), 1 << 20, &AnalysisConfig::default()).unwrap();
        let batch = s.batch(10);
        let seqs: Vec<u64> = batch.iter().map(|e| e.seq.unwrap()).collect();
        assert_eq!(seqs, vec![1, 2]);
        assert!(matches!(batch[1].event, Event::CallEnded(_)));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
    }

    #[test]
    fn a_full_spool_drops_the_oldest_finished_call_never_the_live_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 4_000, &AnalysisConfig::default()).unwrap();
        let (old, newer, live) = (CallId::new(), CallId::new(), CallId::new());
        for (c, n) in [(old, 10), (newer, 10)] {
            for i in 1..n {
                s.append(ev(c, i)).unwrap();
            }
            s.append(end(c, n)).unwrap();
        }
        for i in 1..=30 {
            s.append(ev(live, i)).unwrap();
        }
        let st = s.stats();
        assert!(st.dropped_calls >= 1, "{st:?}");
        let batch = s.batch(1000);
        assert!(batch.iter().all(|e| e.call_id != Some(old)), "the oldest finished call went first");
        assert_eq!(batch.iter().filter(|e| e.call_id == Some(live)).count(), 30, "the live call is kept whole");
    }
}
