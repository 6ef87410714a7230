"""Writes a small Foxglove-style MCAP twice over: with PyPI's
foxglove-schemas-protobuf and mcap-protobuf-support (protobuf, the schema a
FileDescriptorSet), and as JSON (Foxglove's other encoding, bytes in
base64).  Topics, 10 messages each, 100 ms apart, at known values:
  /cam/raw      RawImage rgb8 3x2, rows padded to 12 bytes: pixel (x, y) = (10x + i, 20y, 7)
  /cam/mono     RawImage mono8 2x2 = (i, 1, 2, 3)
  /cam/jpeg     CompressedImage, the JPEG given on the command line
  /lidar        PointCloud, fields y, x, z, intensity (float32) and ring (uint16): point k = (k, i, -1, 0.5)
  /radar        PointCloud of x, y, z float64 (read as radar through a topic map)
  /gps          LocationFix, covariance diagonal 4, 4, 9, metadata rsim.speed_mps = 12.5
  /log          foxglove.Log, which replaysim does not read
Usage: make_foxglove.py OUT_PROTOBUF.mcap OUT_JSON.mcap JPEG_FILE"""
import base64
import json
import struct
import sys

from foxglove_schemas_protobuf.CompressedImage_pb2 import CompressedImage
from foxglove_schemas_protobuf.LocationFix_pb2 import LocationFix
from foxglove_schemas_protobuf.Log_pb2 import Log
from foxglove_schemas_protobuf.PackedElementField_pb2 import PackedElementField
from foxglove_schemas_protobuf.PointCloud_pb2 import PointCloud
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
from google.protobuf.json_format import MessageToDict
from mcap.writer import Writer as McapWriter
from mcap_protobuf.writer import Writer

T0 = 1_700_000_000_000_000_000
F32, F64, U16 = PackedElementField.FLOAT32, PackedElementField.FLOAT64, PackedElementField.UINT16


def messages(jpeg):
    for i in range(10):
        t = T0 + i * 100_000_000
        rgb = b"".join(bytes(v for x in range(3) for v in (10 * x + i, 20 * y, 7)) + b"\0\0\0" for y in range(2))
        yield t, "/cam/raw", RawImage(frame_id="cam", width=3, height=2, encoding="rgb8", step=12, data=rgb)
        yield t, "/cam/mono", RawImage(frame_id="cam", width=2, height=2, encoding="mono8", step=2, data=bytes([i, 1, 2, 3]))
        yield t, "/cam/jpeg", CompressedImage(frame_id="cam", format="jpeg", data=jpeg)
        pts = b"".join(struct.pack("<ffffH2x", float(i), float(k), -1.0, 0.5, k) for k in range(4))
        fields = [PackedElementField(name=n, offset=4 * j, type=F32) for j, n in enumerate("y x z intensity".split())]
        fields.append(PackedElementField(name="ring", offset=16, type=U16))
        yield t, "/lidar", PointCloud(frame_id="base_link", point_stride=20, fields=fields, data=pts)
        radar = struct.pack("<ddd", 30.0, 30.0, 0.0) + struct.pack("<ddd", 10.0, 0.0, 0.0)
        rf = [PackedElementField(name=n, offset=8 * j, type=F64) for j, n in enumerate("xyz")]
        yield t, "/radar", PointCloud(frame_id="radar", point_stride=24, fields=rf, data=radar)
        fix = LocationFix(frame_id="gps", latitude=48.1 + i * 1e-5, longitude=11.5, altitude=520.0,
                          position_covariance=[4, 0, 0, 0, 4, 0, 0, 0, 9],
                          position_covariance_type=LocationFix.DIAGONAL_KNOWN)
        fix.metadata.add(key="rsim.speed_mps", value="12.5")
        yield t, "/gps", fix
        yield t, "/log", Log(message="hello", name="test")


def main():
    out_pb, out_json, jpeg = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read()
    with open(out_pb, "wb") as f:
        w = Writer(f)
        for t, topic, msg in messages(jpeg):
            msg.timestamp.FromNanoseconds(t)
            w.write_message(topic, msg, log_time=t, publish_time=t)
        w.finish()
    with open(out_json, "wb") as f:
        w = McapWriter(f)
        w.start(profile="", library="make_foxglove.py")
        schemas, channels = {}, {}
        for t, topic, msg in messages(jpeg):
            msg.timestamp.FromNanoseconds(t)
            name = msg.DESCRIPTOR.full_name
            if name not in schemas:
                schemas[name] = w.register_schema(name=name, encoding="jsonschema", data=b'{"type":"object"}')
            if topic not in channels:
                channels[topic] = w.register_channel(topic=topic, message_encoding="json", schema_id=schemas[name])
            # Foxglove's JSON: field names as in the schema, enums as numbers, bytes in base64.
            doc = MessageToDict(msg, preserving_proto_field_name=True, use_integers_for_enums=True,
                                always_print_fields_with_no_presence=True)
            w.add_message(channel_id=channels[topic], log_time=t, publish_time=t, data=json.dumps(doc).encode())
        w.finish()


main()
