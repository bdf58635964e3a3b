#!/usr/bin/env python3
# Writes the seed corpus of fuzz-uring-cqe (Fuzz/Corpus/fuzz-uring-cqe); usage:
#   scripts/fuzz-uring-cqe-seeds.py Fuzz/Corpus/fuzz-uring-cqe
# Seed corpus for fuzz-uring-cqe (layout: Sources/Sock/IOUring/IOUringEngineReplay.swift).
import os, struct, sys
out = sys.argv[1]
ACCEPT, RECEIVE, SEND, CLOSE, CANCEL, TIMEOUT, NOP = 1, 2, 3, 4, 5, 6, 7
BUF, MORE, NONEMPTY = 1, 2, 4
def op(action, fd): return bytes([action, fd & 0xff, 0, 0, 0, 0, 0, 0])
serve = lambda fd: op(0, fd)
close = lambda fd: op(1, fd)
endpass = lambda: op(2, 0)
listen = lambda fd: op(3, fd)
def cqe(kind, fd, result=0, flags=0, bid=0, extra=0, b3=0):
    r = result & 0xffff
    return bytes([(kind << 4) | 4, fd & 0xff, extra & 0xff, b3, r & 0xff, r >> 8, flags, bid])
ENOBUFS, ECANCELED, ECONNRESET, EPIPE, EMFILE, EINVAL = -105, -125, -104, -32, -24, -22
seeds = {
  # echo, a queued send, EOF, close (the limit on, cap 4)
  "seed-00-echo-eof": bytes([0b110]) + serve(5)
      + cqe(RECEIVE, 5, 64, BUF | MORE, 0) + cqe(RECEIVE, 5, 10, BUF | MORE, 1)
      + cqe(SEND, 5, 64, extra=0) + cqe(SEND, 5, 10, extra=1)
      + cqe(RECEIVE, 5, 0) + endpass() + cqe(CLOSE, 5),
  # the cap (2): cancellation, an overshoot, ECANCELED, drain, resume
  "seed-01-cap": bytes([0b010]) + serve(7)
      + cqe(RECEIVE, 7, 64, BUF | MORE | NONEMPTY, 0) + cqe(RECEIVE, 7, 64, BUF | MORE | NONEMPTY, 1)
      + cqe(RECEIVE, 7, 64, BUF | MORE | NONEMPTY, 2) + cqe(RECEIVE, 7, ECANCELED)
      + cqe(CANCEL, 7, 1, extra=1) + cqe(SEND, 7, 64, extra=0) + cqe(SEND, 7, 30, extra=1)
      + cqe(SEND, 7, 34, extra=1) + cqe(SEND, 7, 64, extra=2) + endpass()
      + cqe(RECEIVE, 7, 20, BUF, 3) + cqe(SEND, 7, 20, extra=3),
  # a reset peer: the send fails, the receive ends with ENOBUFS, the
  # cancellation completes, the descriptor closes
  "seed-02-reset": bytes([0b110]) + serve(9)
      + cqe(RECEIVE, 9, 64, BUF | MORE, 3) + cqe(SEND, 9, ECONNRESET, extra=3)
      + cqe(RECEIVE, 9, ENOBUFS) + cqe(CANCEL, 9, 1, extra=2) + cqe(CLOSE, 9),
  # starved receives armed again oldest first
  "seed-03-starved": bytes([0b110]) + serve(3) + serve(4) + serve(5) + serve(6)
      + cqe(RECEIVE, 6, 64, BUF | MORE, 0) + cqe(RECEIVE, 6, 64, BUF | MORE, 1)
      + cqe(RECEIVE, 5, ENOBUFS) + cqe(RECEIVE, 3, ENOBUFS) + cqe(RECEIVE, 4, ENOBUFS) + endpass()
      + cqe(SEND, 6, 64, extra=0) + endpass() + cqe(RECEIVE, 5, 8, BUF, 0) + close(3) + endpass(),
  # accept: a connection, one past the tables, EMFILE pausing, a close resuming
  "seed-04-accept": bytes([0b110]) + listen(2)
      + cqe(ACCEPT, 2, 10, MORE) + cqe(ACCEPT, 2, 100, MORE) + cqe(ACCEPT, 2, EMFILE)
      + close(10) + cqe(CANCEL, 10, 1, extra=2) + cqe(RECEIVE, 10, ECANCELED) + cqe(CLOSE, 10)
      + cqe(ACCEPT, 2, 11, MORE),
  # without the multishot limit: careful single-shot receives; with it, EINVAL
  "seed-05-no-limit": bytes([0b111]) + serve(12)
      + cqe(RECEIVE, 12, 64, BUF | NONEMPTY, 4) + cqe(RECEIVE, 12, 5, BUF, 5)
      + cqe(SEND, 12, 64, extra=4) + cqe(SEND, 12, 5, extra=5) + cqe(RECEIVE, 12, 64, BUF | MORE, 6)
      + serve(13) + cqe(RECEIVE, 13, EINVAL),
  "seed-06-limit-rejected": bytes([0b000]) + serve(13) + cqe(RECEIVE, 13, EINVAL) + cqe(RECEIVE, 13, 64, BUF, 7),
  # bogus: unknown kinds, descriptors out of range, buffer ids out of range,
  # too many bytes, a buffer already held, completions for nothing in flight
  "seed-07-bogus": bytes([0b110]) + serve(20)
      + cqe(0, 20) + cqe(9, 20) + cqe(15, 20) + cqe(RECEIVE, -3, 64, BUF | MORE, 0)
      + cqe(RECEIVE, 100, 64, BUF | MORE, 0) + cqe(RECEIVE, 20, 64, BUF | MORE, 16)
      + cqe(RECEIVE, 20, 65, BUF | MORE, 1) + cqe(RECEIVE, 20, 64, MORE, 1)
      + cqe(RECEIVE, 20, 64, BUF | MORE, 2) + cqe(RECEIVE, 20, 64, BUF | MORE, 2)
      + cqe(SEND, 20, 64, extra=9) + cqe(SEND, 21, 64, extra=2) + cqe(CLOSE, 20) + cqe(CANCEL, 20, 0, extra=1)
      + cqe(CANCEL, 20, 0, extra=7) + cqe(RECEIVE, 20, 0, b3=16) + cqe(SEND, 20, 0, extra=2, b3=32)
      + cqe(TIMEOUT, -1) + cqe(NOP, 0),
  # the data handler closes its own descriptor
  "seed-08-close-in-handler": bytes([0b110]) + serve(30) + cqe(RECEIVE, 30, 64, BUF | MORE, 0)
      + cqe(RECEIVE, 30, 64, BUF | MORE, 1, b3=8) + cqe(SEND, 30, ECANCELED, extra=0)
      + cqe(RECEIVE, 30, ECANCELED) + cqe(CANCEL, 30, 2, extra=2) + cqe(CLOSE, 30),
}
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    open(os.path.join(out, name), "wb").write(data)
print(len(seeds), "seeds")
