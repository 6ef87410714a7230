"""Checks an MCAP file with an independent reader (PyPI's `mcap`), not ours.
Usage: validate.py FILE.  Prints "messages N channels N chunks N" and, per
topic, "topic COUNT"; exits non-zero when the file does not read cleanly or
the summary disagrees with the messages.  Protobuf messages (Foxglove
schemas) are decoded with PyPI's mcap-protobuf-support from the file's own
descriptors and checked for the shape Foxglove draws."""
import sys
from collections import Counter

from mcap.reader import make_reader
from mcap_protobuf.decoder import DecoderFactory


def check_foxglove(name, m):
    if name == "foxglove.RawImage":
        bpp = {"rgb8": 3, "mono8": 1}[m.encoding]
        assert m.step == m.width * bpp and len(m.data) == m.step * m.height, (m.width, m.height, len(m.data))
    elif name == "foxglove.PointCloud":
        assert m.point_stride and len(m.data) % m.point_stride == 0
        assert {"x", "y", "z"} <= {f.name for f in m.fields}
        assert all(f.type == f.FLOAT32 and f.offset + 4 <= m.point_stride for f in m.fields)
    elif name == "foxglove.LocationFix":
        assert -90 <= m.latitude <= 90 and len(m.position_covariance) == 9
        assert m.position_covariance_type == m.DIAGONAL_KNOWN
    assert m.timestamp.ToNanoseconds() > 0


path = sys.argv[1]
with open(path, "rb") as f:
    reader = make_reader(f)
    factory, decoders = DecoderFactory(), {}
    summary = reader.get_summary()
    counts = Counter()
    last = -1
    for schema, channel, message in reader.iter_messages(log_time_order=True):
        counts[channel.topic] += 1
        if channel.message_encoding == "protobuf":
            if schema.id not in decoders:
                decoders[schema.id] = factory.decoder_for("protobuf", schema)
            proto = decoders[schema.id](message.data)
            check_foxglove(schema.name, proto)
            assert proto.timestamp.ToNanoseconds() == message.log_time
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
