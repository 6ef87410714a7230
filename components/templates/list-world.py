"""@NAME@: a replaysim component of world @WORLD@ (rsim:sim@0.2.0), in Python,
started by `replaysim new --lang python`.

The host calls @METHOD@ with its inputs and keeps the list it returns.  This
starter returns nothing and logs its first call: put your algorithm in it.

What you can use (the bindings componentize-py makes from the contract):
  sensor_data.get_config(key)    a value of this component's `config:` in graph.yaml
  sensor_data.log(level, text)   a line in the run's log (print() goes there too)
  sensor_data.sim_time()         the sim time, ns (time.time() reads it as well)
  payload(reading)               a reading's bytes (docs/sensors.md has the layouts)
Python's library works, deterministically: time is the sim time, random bytes
(os.urandom) are seeded by the graph (config `wasi.seed`), and there are no
files, network or environment.  Keep what must survive a seek in the state:
save() and restore() below.
"""
import struct

from wit_world import exports
from componentize_py_types import Err
from wit_world.imports import sensor_data, types


def payload(reading):
    """The reading's bytes: its packed list<u64>, little-endian."""
    return struct.pack("<%dQ" % len(reading.payload), *reading.payload)[: reading.payload_len]


# Everything kept between calls: saved and restored for seek and checkpoints.
calls = 0


class @CLASS@(exports.@CLASS@):
    def @METHOD@(self, @PARAMS@):
        global calls
        calls += 1
        if calls == 1:
            sensor_data.log(types.LogLevel.INFO, "@NAME@: first call")
        return []


class State(exports.State):
    def save(self):
        return struct.pack("<Q", calls)

    def restore(self, bytes):
        global calls
        if len(bytes) != 8:
            raise Err("state is %d bytes, not 8" % len(bytes))
        (calls,) = struct.unpack("<Q", bytes)
