//! Events leave the pipeline through one fan-out: every consumer (the
//! terminal or JSON writer, the overlay, the board uplink) has its own
//! queue, so a slow or stuck consumer never holds up recognition or the
//! others. Display consumers keep a bounded queue and drop the oldest event
//! when it is full (and say so); lossless consumers (a JSON record, the
//! board uplink, which spools to disk) are never dropped from. Every queue
//! reports its length, what it dropped, and how long events waited in it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError};

use crate::events::TimedEvent;

/// How a consumer's queue behaves when the consumer falls behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// A bounded queue of this many events; when full the oldest is
    /// dropped and counted (screens: only the latest state matters).
    DropOldest(usize),
    /// Nothing is ever dropped (records, the board uplink); the queue
    /// grows while the consumer is slow.
    Lossless,
}

/// A queue's measurements, shared between the fan-out and the consumer.
#[derive(Debug, Default)]
pub struct QueueMeter {
    sent: AtomicU64,
    dropped: AtomicU64,
    max_len: AtomicU64,
    max_wait_us: AtomicU64,
    last_wait_us: AtomicU64,
}

/// A snapshot of a [`QueueMeter`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueueReport {
    /// Events handed to the queue.
    pub sent: u64,
    /// Events dropped because the consumer was behind.
    pub dropped: u64,
    /// Longest the queue has been.
    pub max_len: u64,
    /// Longest an event waited before the consumer took it, ms.
    pub max_wait_ms: f64,
    /// How long the latest event taken waited, ms.
    pub last_wait_ms: f64,
}

impl QueueMeter {
    /// The numbers now.
    pub fn report(&self) -> QueueReport {
        QueueReport {
            sent: self.sent.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            max_len: self.max_len.load(Ordering::Relaxed),
            max_wait_ms: self.max_wait_us.load(Ordering::Relaxed) as f64 / 1000.0,
            last_wait_ms: self.last_wait_us.load(Ordering::Relaxed) as f64 / 1000.0,
        }
    }
}

struct Stamped {
    at: Instant,
    event: TimedEvent,
}

/// The consumer's end of a queue.
pub struct Subscription {
    name: String,
    rx: Receiver<Stamped>,
    meter: Arc<QueueMeter>,
    /// Dropped with the subscription: tells the fan-out to stop feeding it.
    _alive: Arc<()>,
}

impl Subscription {
    fn took(&self, s: Stamped) -> TimedEvent {
        let us = s.at.elapsed().as_micros() as u64;
        self.meter.last_wait_us.store(us, Ordering::Relaxed);
        self.meter.max_wait_us.fetch_max(us, Ordering::Relaxed);
        s.event
    }

    /// The next event; None once the pipeline has ended and the queue is empty.
    pub fn recv(&self) -> Option<TimedEvent> {
        self.rx.recv().ok().map(|s| self.took(s))
    }

    /// The next event, waiting at most `timeout`. `Err(true)` when the
    /// pipeline has ended and the queue is empty, `Err(false)` on timeout.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<TimedEvent, bool> {
        match self.rx.recv_timeout(timeout) {
            Ok(s) => Ok(self.took(s)),
            Err(RecvTimeoutError::Timeout) => Err(false),
            Err(RecvTimeoutError::Disconnected) => Err(true),
        }
    }

    /// An event if one is waiting. `Err(true)` when the pipeline has ended.
    pub fn try_recv(&self) -> Result<TimedEvent, bool> {
        match self.rx.try_recv() {
            Ok(s) => Ok(self.took(s)),
            Err(TryRecvError::Empty) => Err(false),
            Err(TryRecvError::Disconnected) => Err(true),
        }
    }

    /// Every event until the pipeline ends.
    pub fn iter(&self) -> impl Iterator<Item = TimedEvent> + '_ {
        std::iter::from_fn(|| self.recv())
    }

    /// Events waiting now.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// This queue's measurements.
    pub fn meter(&self) -> Arc<QueueMeter> {
        self.meter.clone()
    }
}

struct Consumer {
    name: String,
    delivery: Delivery,
    tx: Sender<Stamped>,
    /// The fan-out's own handle on the queue, to drop the oldest.
    rx: Receiver<Stamped>,
    meter: Arc<QueueMeter>,
    alive: std::sync::Weak<()>,
    gone: bool,
    reported_dropped: u64,
}

/// The fan-out: one producer (the call thread), many consumers.
#[derive(Default)]
pub struct Fanout {
    consumers: Vec<Consumer>,
}

/// A consumer that lost events since the last report.
#[derive(Debug, Clone, PartialEq)]
pub struct Behind {
    /// The consumer.
    pub name: String,
    /// Events dropped since the last report.
    pub dropped: u64,
    /// Events dropped in all.
    pub dropped_total: u64,
}

impl Fanout {
    /// No consumers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a consumer. Subscribe before the pipeline starts to see every event.
    pub fn subscribe(&mut self, name: &str, delivery: Delivery) -> Subscription {
        let (tx, rx) = match delivery {
            Delivery::DropOldest(n) => bounded(n.max(1)),
            Delivery::Lossless => unbounded(),
        };
        let meter = Arc::new(QueueMeter::default());
        let alive = Arc::new(());
        self.consumers.push(Consumer {
            name: name.into(),
            delivery,
            tx,
            rx: rx.clone(),
            meter: meter.clone(),
            alive: Arc::downgrade(&alive),
            gone: false,
            reported_dropped: 0,
        });
        Subscription { name: name.into(), rx, meter, _alive: alive }
    }

    /// Hands an event to every consumer; never blocks.
    pub fn publish(&mut self, event: &TimedEvent) {
        let now = Instant::now();
        for c in self.consumers.iter_mut().filter(|c| !c.gone) {
            if c.alive.strong_count() == 0 {
                // The consumer went away (a window closed): stop feeding it.
                c.gone = true;
                while c.rx.try_recv().is_ok() {}
                continue;
            }
            let mut item = Stamped { at: now, event: event.clone() };
            loop {
                match c.tx.try_send(item) {
                    Ok(()) => {
                        c.meter.sent.fetch_add(1, Ordering::Relaxed);
                        c.meter.max_len.fetch_max(c.tx.len() as u64, Ordering::Relaxed);
                        break;
                    }
                    Err(TrySendError::Full(back)) => {
                        // Only DropOldest queues are bounded.
                        if c.rx.try_recv().is_ok() {
                            c.meter.dropped.fetch_add(1, Ordering::Relaxed);
                        }
                        item = back;
                    }
                    Err(TrySendError::Disconnected(_)) => {
                        c.gone = true;
                        break;
                    }
                }
            }
        }
    }

    /// Consumers that dropped events since the last call (for a status).
    pub fn behind(&mut self) -> Vec<Behind> {
        let mut out = Vec::new();
        for c in &mut self.consumers {
            let total = c.meter.dropped.load(Ordering::Relaxed);
            if total > c.reported_dropped {
                out.push(Behind { name: c.name.clone(), dropped: total - c.reported_dropped, dropped_total: total });
                c.reported_dropped = total;
            }
        }
        out
    }

    /// Each consumer's name, delivery and numbers.
    pub fn reports(&self) -> Vec<(String, Delivery, QueueReport)> {
        self.consumers.iter().map(|c| (c.name.clone(), c.delivery, c.meter.report())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, StatusEvent, StatusKind};

    fn ev(i: u64) -> TimedEvent {
        TimedEvent::idle(i as f64, Event::Status(StatusEvent { kind: StatusKind::Lagging, speaker: None, message: i.to_string() }))
    }

    #[test]
    fn a_stuck_display_loses_the_oldest_and_the_others_get_everything() {
        let mut f = Fanout::new();
        let stuck = f.subscribe("overlay", Delivery::DropOldest(4));
        let record = f.subscribe("json", Delivery::Lossless);
        for i in 0..10 {
            f.publish(&ev(i));
        }
        let kept: Vec<f64> = std::iter::from_fn(|| stuck.try_recv().ok()).map(|e| e.t).collect();
        assert_eq!(kept, vec![6.0, 7.0, 8.0, 9.0], "the newest four stay");
        assert_eq!(record.iter().take(10).count(), 10);
        let behind = f.behind();
        assert_eq!(behind, vec![Behind { name: "overlay".into(), dropped: 6, dropped_total: 6 }]);
        assert!(f.behind().is_empty(), "reported once");
        assert_eq!(stuck.meter().report().dropped, 6);
    }

    #[test]
    fn a_consumer_that_went_away_is_skipped() {
        let mut f = Fanout::new();
        let gone = f.subscribe("window", Delivery::DropOldest(2));
        drop(gone);
        let kept = f.subscribe("json", Delivery::Lossless);
        for i in 0..5 {
            f.publish(&ev(i));
        }
        assert_eq!(kept.try_recv().map(|e| e.t), Ok(0.0));
        assert!(f.behind().is_empty(), "a closed window is not a consumer that fell behind");
    }
}
