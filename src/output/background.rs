//! A file whose `write(2)` calls are made by a thread of its own.
//!
//! A run's trace files are its largest output (25 MB for the 10,000-server cold storm), and the
//! kernel copying them into the page cache took a tenth of the run's wall time, all of it on the
//! thread that simulates. Here that thread only fills buffers; a writer thread makes the system
//! calls, on another core when there is one. The bytes and their order are exactly those
//! written: only which thread waits on the kernel changes.
//!
//! A write error stops the writer thread; the next `write` or `flush` returns it.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Bytes gathered before they are handed to the writer thread.
const CHUNK: usize = 1 << 16;

/// Chunks handed over and not yet written. With this many, the next hand-over waits: a slow
/// disk slows the run rather than making it hold the whole trace in memory.
const IN_FLIGHT: usize = 4;

enum Job {
    Write(Vec<u8>),
    /// Answered once every chunk before it is written.
    Flush,
}

/// Each job's answer: the written chunk's buffer, emptied for reuse (an empty one for a flush),
/// or the error that stopped the writer.
type Answer = io::Result<Vec<u8>>;

pub struct BackgroundFile {
    buf: Vec<u8>,
    /// `None` once dropped (which ends the writer thread).
    jobs: Option<SyncSender<Job>>,
    answers: Receiver<Answer>,
    /// Jobs sent and not yet answered.
    pending: usize,
    /// Emptied buffers, reused for the next chunks.
    spare: Vec<Vec<u8>>,
    writer: Option<JoinHandle<()>>,
}

impl BackgroundFile {
    /// Writes to `file` from a new thread.
    pub fn new(mut file: File) -> io::Result<BackgroundFile> {
        let (jobs, queue) = sync_channel::<Job>(IN_FLIGHT);
        let (answer, answers) = sync_channel::<Answer>(IN_FLIGHT + 1);
        let writer = std::thread::Builder::new()
            .name("novasim-file-writer".into())
            .spawn(move || {
                for job in queue {
                    let reply = match job {
                        Job::Write(mut chunk) => file.write_all(&chunk).map(|()| {
                            chunk.clear();
                            chunk
                        }),
                        Job::Flush => file.flush().map(|()| Vec::new()),
                    };
                    let failed = reply.is_err();
                    if answer.send(reply).is_err() || failed {
                        return;
                    }
                }
            })?;
        Ok(BackgroundFile {
            buf: Vec::with_capacity(CHUNK),
            jobs: Some(jobs),
            answers,
            pending: 0,
            spare: Vec::new(),
            writer: Some(writer),
        })
    }

    /// Takes one answer, waiting for it.
    fn take_answer(&mut self) -> io::Result<()> {
        let answer = self.answers.recv().map_err(|_| writer_gone())?;
        self.keep(answer)
    }

    fn keep(&mut self, answer: Answer) -> io::Result<()> {
        self.pending -= 1;
        let chunk = answer?;
        if chunk.capacity() > 0 {
            self.spare.push(chunk);
        }
        Ok(())
    }

    fn send(&mut self, job: Job) -> io::Result<()> {
        // Room in the queue first: a full queue would block the send.
        while self.pending >= IN_FLIGHT {
            self.take_answer()?;
        }
        let jobs = self.jobs.as_ref().ok_or_else(writer_gone)?;
        if jobs.send(job).is_err() {
            // The writer stopped: its error is the last answer it sent.
            while self.pending > 0 {
                self.take_answer()?;
            }
            return Err(writer_gone());
        }
        self.pending += 1;
        Ok(())
    }

    /// Hands the gathered bytes to the writer thread.
    fn hand_over(&mut self) -> io::Result<()> {
        // Buffers the writer is done with, so that the chunks reuse them.
        while let Ok(answer) = self.answers.try_recv() {
            self.keep(answer)?;
        }
        let next = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK));
        let chunk = std::mem::replace(&mut self.buf, next);
        self.send(Job::Write(chunk))
    }
}

fn writer_gone() -> io::Error {
    io::Error::other("the file's writer thread stopped")
}

impl Write for BackgroundFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.hand_over()?;
        }
        Ok(bytes.len())
    }

    /// Returns once every byte written so far is in the file.
    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.hand_over()?;
        }
        self.send(Job::Flush)?;
        while self.pending > 0 {
            self.take_answer()?;
        }
        Ok(())
    }
}

impl Drop for BackgroundFile {
    /// Writes what is left, as a `BufWriter` does when dropped (errors are lost then: call
    /// `flush` to see them).
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.hand_over();
        }
        self.jobs = None;
        if let Some(writer) = self.writer.take() {
            // Drains the queue: the writer ends once its channel is closed and empty.
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn scratch(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("novasim-background-{}-{name}", std::process::id()))
    }

    fn read(path: &std::path::Path) -> Vec<u8> {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .expect("the written file reads back");
        bytes
    }

    /// Writes of every size, many chunks' worth, give the same bytes in the same order.
    #[test]
    fn the_file_holds_every_byte_in_order() {
        let path = scratch("out.csv");
        let mut expected = Vec::new();
        let mut f = BackgroundFile::new(File::create(&path).expect("created")).expect("thread");
        for i in 0..20_000u32 {
            let piece = format!("{i},{}\n", "x".repeat((i % 97) as usize));
            f.write_all(piece.as_bytes()).expect("written");
            expected.extend_from_slice(piece.as_bytes());
            if i == 7_000 {
                f.flush().expect("flushed");
                assert_eq!(read(&path), expected, "a flush writes everything before it");
            }
        }
        let big = vec![b'y'; 5 * CHUNK + 3];
        f.write_all(&big).expect("written");
        expected.extend_from_slice(&big);
        f.flush().expect("flushed");
        assert_eq!(read(&path), expected);
        f.write_all(b"after the flush\n").expect("written");
        expected.extend_from_slice(b"after the flush\n");
        drop(f);
        assert_eq!(read(&path), expected, "dropping writes the rest");
        let _ = std::fs::remove_file(&path);
    }

    /// A file opened read-only cannot be written: the error comes back from the writer thread.
    #[test]
    fn a_write_error_is_returned() {
        let path = scratch("ro.csv");
        std::fs::write(&path, b"").expect("created");
        let read_only = File::open(&path).expect("opened");
        let mut f = BackgroundFile::new(read_only).expect("thread");
        let outcome = (0..10 * IN_FLIGHT)
            .try_for_each(|_| f.write_all(&[b'z'; CHUNK]))
            .and_then(|()| f.flush());
        assert!(outcome.is_err(), "writing to a read-only file fails");
        assert!(f.flush().is_err(), "and keeps failing");
        drop(f);
        let _ = std::fs::remove_file(&path);
    }
}
