//! The CPU time an isolate's thread has used, read from another thread: the clock behind
//! `@fluxbase:cpu-time`. Time a handler spends awaiting I/O or timers is not on it (the thread
//! sleeps), only the time it computes. It reads a clock only: terminating the isolate is the
//! caller's business (`worker`).

use std::time::Duration;

/// A thread's CPU-time clock (POSIX `pthread_getcpuclockid`).
#[derive(Debug, Clone, Copy)]
pub struct ThreadCpuClock(libc::clockid_t);

impl ThreadCpuClock {
    /// The clock of the calling thread, where the platform has one.
    pub fn of_current_thread() -> Option<ThreadCpuClock> {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: `pthread_self` is the calling, live thread and `clock` is a valid out-pointer.
        let status = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
        (status == 0).then_some(ThreadCpuClock(clock))
    }

    /// CPU time the thread has used so far; `None` once the thread has ended.
    pub fn used(&self) -> Option<Duration> {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid out-pointer; a clock of an ended thread fails with EINVAL.
        let status = unsafe { libc::clock_gettime(self.0, &mut now) };
        (status == 0).then(|| {
            Duration::new(
                u64::try_from(now.tv_sec).unwrap_or(0),
                u32::try_from(now.tv_nsec).unwrap_or(0),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_computing_and_not_sleeping_and_reads_from_another_thread() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            let clock = ThreadCpuClock::of_current_thread().unwrap();
            let before = clock.used().unwrap();
            std::thread::sleep(Duration::from_millis(200));
            let slept = clock.used().unwrap() - before;
            // Computes until its own clock says 150 ms more were used, however busy the machine.
            let mut x = 0u64;
            while clock.used().unwrap() - before < Duration::from_millis(150) + slept {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            tx.send((clock, before, slept)).unwrap();
            // Stays alive until the other thread has read the clock.
            let _ = done_rx.recv();
        });
        let (clock, before, slept) = rx.recv().unwrap();
        let used = clock.used().unwrap() - before;
        done_tx.send(()).unwrap();
        worker.join().unwrap();
        assert!(slept < Duration::from_millis(50), "sleeping used {slept:?}");
        assert!(used >= Duration::from_millis(150), "{used:?}");
    }
}
