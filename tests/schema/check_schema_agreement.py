#!/usr/bin/env python3
"""Keeps desired/manifest.schema.json and pgparity's loader in agreement.

Every example and every valid test manifest must pass both the JSON Schema
(python3-jsonschema, on the YAML as PyYAML reads it) and `pgparity validate`;
every invalid sample must fail both.

usage: check_schema_agreement.py PGPARITY_BINARY SOURCE_DIR
"""
import glob
import json
import os
import subprocess
import sys

import jsonschema
import yaml


def main() -> int:
    binary, source = sys.argv[1], sys.argv[2]
    with open(os.path.join(source, "desired", "manifest.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    env = dict(os.environ, PGPARITY_PROD_DSN="host=prod", PGPARITY_STAGING_DSN="host=staging", PGPARITY_APP_DSN="host=app")

    valid = sorted(glob.glob(os.path.join(source, "examples", "*.yaml")) +
                   glob.glob(os.path.join(source, "tests", "manifests", "valid", "*.yaml")))
    invalid = sorted(glob.glob(os.path.join(source, "tests", "manifests", "invalid", "*.yaml")))
    if len(valid) < 5 or len(invalid) < 10:
        print(f"too few manifests found under {source}: {len(valid)} valid, {len(invalid)} invalid")
        return 1

    passed = failed = 0
    for path, want_valid in [(p, True) for p in valid] + [(p, False) for p in invalid]:
        with open(path) as f:
            document = yaml.safe_load(f)
        schema_errors = [e.message for e in validator.iter_errors(document)]
        run = subprocess.run([binary, "validate", "-f", path], env=env, capture_output=True, text=True)
        schema_ok, loader_ok = not schema_errors, run.returncode == 0
        name = os.path.relpath(path, source)
        if schema_ok == want_valid and loader_ok == want_valid:
            passed += 1
            print(f"ok      {name}")
        else:
            failed += 1
            print(f"FAILED  {name}: expected {'valid' if want_valid else 'invalid'}; "
                  f"schema says {'valid' if schema_ok else 'invalid'} {schema_errors[:2]}, "
                  f"loader says {'valid' if loader_ok else 'invalid'} {run.stderr.strip()[:300]}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
