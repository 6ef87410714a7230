"""@NAME@: a planner for replaysim (world planner of rsim:sim@0.2.0), in Python,
started by `replaysim new --lang python`: replace its choice of speed with
your planner.

It does what the C planner starter does: cruise at a set speed, and slow to
keep a time gap to the nearest object ahead in the lane.  Python's own
library works as usual and stays deterministic: time.time() reads the sim
time, os.urandom the graph's seeded generator, print() writes to the run log.

Config (the graph's `config:` of this component):
  planner.set_speed  m/s   (27.8)
  planner.time_gap   s     (1.8)
  planner.max_decel  m/s2  (4.0)
  planner.dither     m/s   (0.0) random noise on the target speed, from the
                           seeded generator (shows that random is replayable)
  planner.fail_after       (none) raise after this many calls: a deliberate bug
"""
import os
import struct
import time

from wit_world import exports
from componentize_py_types import Err
from wit_world.imports import sensor_data, types

N_POINTS = 10     # trajectory points, 0.1 s apart
LANE_HALF = 1.8   # m: an object with |y| below this is in our lane


def config(key, default):
    v = sensor_data.get_config(key)
    return float(v) if v is not None else default


def payload(reading):
    """The reading's bytes: the packed list<u64> as little-endian bytes."""
    return struct.pack("<%dQ" % len(reading.payload), *reading.payload)[: reading.payload_len]


def ego_speed(vehicle):
    """m/s from CAN frame 0x100 (u32 id, u8 dlc, data: bytes 0-1 in 0.01 m/s)."""
    b = payload(vehicle)
    if len(b) < 13 or struct.unpack_from("<I", b)[0] != 0x100:
        return 0.0
    return (b[5] | b[6] << 8) * 0.01


# Everything kept between calls: saved and restored for seek and checkpoints.
calls = 0
braking = False


class Planning(exports.Planning):
    def plan(self, objects, vehicle):
        global calls, braking
        calls += 1
        fail_after = sensor_data.get_config("planner.fail_after")
        if fail_after is not None and calls > int(fail_after):
            raise RuntimeError("a deliberate bug after %s calls" % fail_after)
        speed = ego_speed(vehicle)
        set_speed = config("planner.set_speed", 27.8)
        time_gap = config("planner.time_gap", 1.8)
        lead = None
        for o in objects:
            if o.position.x > 0 and -LANE_HALF < o.position.y < LANE_HALF:
                if lead is None or o.position.x < lead.position.x:
                    lead = o
        target = set_speed
        if lead is not None:
            target = min(lead.position.x / time_gap, speed + lead.velocity.x, set_speed)
            target = max(target, 0.0)
        dither = config("planner.dither", 0.0)
        if dither:
            u = struct.unpack("<Q", os.urandom(8))[0] / 2.0**64
            target = max(0.0, target + dither * (2 * u - 1))
        accel = min(max((target - speed) / 2.0, -config("planner.max_decel", 4.0)), 2.0)
        now = accel < -0.5
        if now != braking:
            # time.time() is the sim time: the log line is the same every run.
            print("%s at %.3f: speed %.2f m/s, target %.2f m/s"
                  % ("braking" if now else "cruising", time.time(), speed, target))
        braking = now
        points, x, v = [], 0.0, speed
        for k in range(N_POINTS):
            v = max(v + accel * 0.1, 0.0)
            x += v * 0.1
            points.append(types.TrajectoryPoint((k + 1) * 100_000_000, x, 0.0, v, accel))
        maneuver = "brake" if now else "follow" if lead is not None else "cruise"
        return types.Trajectory(vehicle.timestamp, maneuver, target,
                                lead.id if lead is not None else None, points)


class State(exports.State):
    def save(self):
        return struct.pack("<QB", calls, braking)

    def restore(self, bytes):
        global calls, braking
        if len(bytes) != 9:
            raise Err("planner state is %d bytes, not 9" % len(bytes))
        c, b = struct.unpack("<QB", bytes)
        calls, braking = c, bool(b)
