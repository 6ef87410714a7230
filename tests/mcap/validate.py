"""Checks an MCAP file with an independent reader (PyPI's `mcap`), not ours.
Usage: validate.py FILE.  Prints "messages N channels N chunks N" and, per
topic, "topic COUNT"; exits non-zero when the file does not read cleanly or
the summary disagrees with the messages."""
import sys
from collections import Counter

from mcap.reader import make_reader

path = sys.argv[1]
with open(path, "rb") as f:
    reader = make_reader(f)
    summary = reader.get_summary()
    counts = Counter()
    last = -1
    for schema, channel, message in reader.iter_messages(log_time_order=True):
        counts[channel.topic] += 1
        assert message.log_time >= last, "messages out of log-time order"
        last = message.log_time
    stats = summary.statistics
    total = sum(counts.values())
    assert stats.message_count == total, (stats.message_count, total)
    for cid, n in stats.channel_message_counts.items():
        assert counts[summary.channels[cid].topic] == n, (cid, n)
    print(f"messages {total} channels {len(summary.channels)} chunks {len(summary.chunk_indexes)}")
    for topic in sorted(counts):
        print(f"{topic} {counts[topic]}")
