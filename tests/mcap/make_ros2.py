"""Writes a small rosbag2-style MCAP with PyPI's mcap-ros2-support (an
independent CDR encoder): sensor_msgs Image (rgb8 and bgr8 with row
padding), CompressedImage (the JPEG given on the command line),
PointCloud2, Imu and NavSatFix, Range, radar_msgs RadarScan and can_msgs Frame, 10
messages each at known times and values.
Usage: make_ros2.py OUT.mcap JPEG_FILE"""
import sys

from mcap_ros2.writer import Writer

HEADER = """
================================================================================
MSG: std_msgs/Header
builtin_interfaces/Time stamp
string frame_id
================================================================================
MSG: builtin_interfaces/Time
int32 sec
uint32 nanosec
"""
IMAGE = """std_msgs/Header header
uint32 height
uint32 width
string encoding
uint8 is_bigendian
uint32 step
uint8[] data""" + HEADER
COMPRESSED = """std_msgs/Header header
string format
uint8[] data""" + HEADER
CLOUD = """std_msgs/Header header
uint32 height
uint32 width
sensor_msgs/PointField[] fields
bool is_bigendian
uint32 point_step
uint32 row_step
uint8[] data
bool is_dense""" + HEADER + """
================================================================================
MSG: sensor_msgs/PointField
string name
uint32 offset
uint8 datatype
uint32 count"""
IMU = """std_msgs/Header header
geometry_msgs/Quaternion orientation
float64[9] orientation_covariance
geometry_msgs/Vector3 angular_velocity
float64[9] angular_velocity_covariance
geometry_msgs/Vector3 linear_acceleration
float64[9] linear_acceleration_covariance""" + HEADER + """
================================================================================
MSG: geometry_msgs/Quaternion
float64 x
float64 y
float64 z
float64 w
================================================================================
MSG: geometry_msgs/Vector3
float64 x
float64 y
float64 z"""
FIX = """std_msgs/Header header
sensor_msgs/NavSatStatus status
float64 latitude
float64 longitude
float64 altitude
float64[9] position_covariance
uint8 position_covariance_type""" + HEADER + """
================================================================================
MSG: sensor_msgs/NavSatStatus
int8 status
uint16 service"""

RADAR = """std_msgs/Header header
radar_msgs/RadarReturn[] returns""" + HEADER + """
================================================================================
MSG: radar_msgs/RadarReturn
float32 range
float32 azimuth
float32 elevation
float32 doppler_velocity
float32 amplitude"""
CAN = """std_msgs/Header header
uint32 id
bool is_rtr
bool is_extended
bool is_error
uint8 dlc
uint8[8] data""" + HEADER

RANGE = """std_msgs/Header header
uint8 radiation_type
float32 field_of_view
float32 min_range
float32 max_range
float32 range""" + HEADER

out, jpeg = sys.argv[1], open(sys.argv[2], "rb").read()
T0 = 1_700_000_000_000_000_000
with open(out, "wb") as f:
    w = Writer(f)
    image = w.register_msgdef("sensor_msgs/msg/Image", IMAGE)
    comp = w.register_msgdef("sensor_msgs/msg/CompressedImage", COMPRESSED)
    cloud = w.register_msgdef("sensor_msgs/msg/PointCloud2", CLOUD)
    imu = w.register_msgdef("sensor_msgs/msg/Imu", IMU)
    fix = w.register_msgdef("sensor_msgs/msg/NavSatFix", FIX)
    radar = w.register_msgdef("radar_msgs/msg/RadarScan", RADAR)
    can = w.register_msgdef("can_msgs/msg/Frame", CAN)
    rng = w.register_msgdef("sensor_msgs/msg/Range", RANGE)
    for i in range(10):
        t = T0 + i * 100_000_000
        hdr = {"stamp": {"sec": t // 10**9, "nanosec": t % 10**9}, "frame_id": "base_link"}
        # 3x2 rgb8: pixel (x, y) = (10*x + i, 20*y, 7)
        rgb = bytes(v for y in range(2) for x in range(3) for v in (10 * x + i, 20 * y, 7))
        w.write_message("/camera/rgb", image, {"header": hdr, "height": 2, "width": 3, "encoding": "rgb8",
                        "is_bigendian": 0, "step": 9, "data": rgb}, log_time=t, publish_time=t)
        # the same picture as bgr8, rows padded to 12 bytes
        bgr = b"".join(bytes(v for x in range(3) for v in (7, 20 * y, 10 * x + i)) + b"\0\0\0" for y in range(2))
        w.write_message("/camera/bgr", image, {"header": hdr, "height": 2, "width": 3, "encoding": "bgr8",
                        "is_bigendian": 0, "step": 12, "data": bgr}, log_time=t, publish_time=t)
        w.write_message("/camera/jpeg", comp, {"header": hdr, "format": "jpeg", "data": jpeg},
                        log_time=t, publish_time=t)
        import struct
        pts = b"".join(struct.pack("<ffff", float(k), float(i), -1.0, 0.5) for k in range(4))
        fields = [{"name": n, "offset": 4 * j, "datatype": 7, "count": 1} for j, n in enumerate("x y z intensity".split())]
        w.write_message("/lidar/points", cloud, {"header": hdr, "height": 1, "width": 4, "fields": fields,
                        "is_bigendian": False, "point_step": 16, "row_step": 64, "data": pts, "is_dense": True},
                        log_time=t, publish_time=t)
        vec = lambda x, y, z: {"x": x, "y": y, "z": z}
        w.write_message("/imu", imu, {"header": hdr, "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0},
                        "orientation_covariance": [0.0] * 9, "angular_velocity": vec(0.1, 0.2, 0.3 + i),
                        "angular_velocity_covariance": [0.0] * 9, "linear_acceleration": vec(1.0, 2.0, 9.81),
                        "linear_acceleration_covariance": [0.0] * 9}, log_time=t, publish_time=t)
        w.write_message("/gps/fix", fix, {"header": hdr, "status": {"status": 0, "service": 1},
                        "latitude": 48.1 + i * 1e-5, "longitude": 11.5, "altitude": 520.0,
                        "position_covariance": [4.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 9.0], "position_covariance_type": 2},
                        log_time=t, publish_time=t)
        # two returns: (10 + i m, 0.1 rad, 0.02 rad elevation, -3 m/s, 12 dB) and one at 50 m
        returns = [{"range": 10.0 + i, "azimuth": 0.1, "elevation": 0.02, "doppler_velocity": -3.0, "amplitude": 12.0},
                   {"range": 50.0, "azimuth": -0.2, "elevation": 0.0, "doppler_velocity": 1.5, "amplitude": 5.0}]
        w.write_message("/radar/scan", radar, {"header": hdr, "returns": returns}, log_time=t, publish_time=t)
        w.write_message("/can/rx", can, {"header": hdr, "id": 0x100, "is_rtr": False, "is_extended": False,
                        "is_error": False, "dlc": 3, "data": [1, 2, i, 0, 0, 0, 0, 0]}, log_time=t, publish_time=t)
        w.write_message("/sonar/front", rng, {"header": hdr, "radiation_type": 0, "field_of_view": 0.5,
                        "min_range": 0.2, "max_range": 5.0, "range": 1.0 + 0.25 * i}, log_time=t, publish_time=t)
    w.finish()
