"""Rewrites the conformance suite's expected JSON files into one canonical
form (sorted keys, no spaces), so the C test can compare replaysim's output
as a string.  Usage: canon.py SUITE_DIR OUT_DIR"""
import json, os, sys

src, dst = sys.argv[1], sys.argv[2]
n = 0
for root, _, files in os.walk(src):
    for f in files:
        if f.endswith(".json"):
            with open(os.path.join(root, f)) as fh:
                # "meta" describes the variant (its writer features), not the file.
                doc = {"records": json.load(fh)["records"]}
            with open(os.path.join(dst, f), "w") as out:
                json.dump(doc, out, sort_keys=True, separators=(",", ":"))
            n += 1
print(n)
