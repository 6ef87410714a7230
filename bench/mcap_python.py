"""The obvious alternative to bench_mcap: PyPI's mcap reader on the same file.
Usage: mcap_python.py FILE.mcap [REPEAT]"""
import sys
import time

from mcap.reader import make_reader

path, repeat = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
best_open = best_read = 1e9
for _ in range(repeat):
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        reader = make_reader(f)
        reader.get_summary()
        t1 = time.perf_counter()
        n = size = 0
        for _, _, message in reader.iter_messages(log_time_order=True):
            n += 1
            size += len(message.data)
        t2 = time.perf_counter()
    best_open, best_read = min(best_open, t1 - t0), min(best_read, t2 - t1)
print(f"open (footer + summary): {best_open * 1e3:.3f} ms")
print(f"indexed read of all messages: {n} messages, {size / 1e6:.1f} MB in {best_read:.3f} s"
      f" = {size / 1e6 / best_read:.0f} MB/s, {n / best_read:.0f} messages/s")
