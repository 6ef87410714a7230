"""Reads a run recorded as MCAP with PyPI's mcap and checks what Foxglove
needs: every message on a foxglove.* channel is JSON of that schema's shape.
Prints "TOPIC SCHEMA COUNT" per channel.  Usage: check_run.py RUN.mcap"""
import base64
import json
import sys
from collections import Counter

from mcap.reader import make_reader

counts, schemas = Counter(), {}
with open(sys.argv[1], "rb") as f:
    for schema, channel, message in make_reader(f).iter_messages(log_time_order=True):
        assert channel.message_encoding == "json" and schema.encoding == "jsonschema", channel.topic
        doc = json.loads(message.data)
        name = schema.name
        if name == "foxglove.CompressedImage":
            data = base64.b64decode(doc["data"])
            assert doc["format"] == "jpeg" and data[:3] == b"\xff\xd8\xff", doc["format"]
        elif name == "foxglove.PointCloud":
            assert len(base64.b64decode(doc["data"])) % doc["point_stride"] == 0
        elif name == "foxglove.ImageAnnotations":
            for p in doc["points"]:
                assert p["type"] == 2 and len(p["points"]) == 4
        elif name == "foxglove.SceneUpdate":
            for e in doc["entities"]:
                assert e["frame_id"] == "base_link" and (e["cubes"] or e["lines"]), e
                assert e["timestamp"]["nsec"] < 1_000_000_000
        elif name == "rsim.ComponentOutput":
            assert "value" in doc and "timestamp" in doc
        if name not in ("foxglove.SceneUpdate", "foxglove.ImageAnnotations"):  # their parts carry the times
            assert doc["timestamp"]["nsec"] < 1_000_000_000
        counts[channel.topic] += 1
        schemas[channel.topic] = name
for topic in sorted(counts):
    print(topic, schemas[topic], counts[topic])
