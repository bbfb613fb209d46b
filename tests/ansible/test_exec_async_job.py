"""An async job's result file, read the way async_status reads it, at every moment.

Target-side, in the test process: ansible_mitogen.remote.runner starts a real
detached job (double fork, as on a target) whose program prints its
result after a pause, while a reader polls ``<async_dir>/<jid>`` in a
tight loop with the read of ansible-core's async_status module.  Every
read must see a whole file: "running" (started, not finished) until the
job ends, then the job's whole result; never a missing file once started,
never torn JSON, never "finished" without the job's stdout (what CI once
saw a status assert of engine/async.yml fail on, not reproduced since).
"""
import json
import os
import threading
import time

from ansible_mitogen.remote import runner

PROGRAM = b"""#!/bin/sh
sleep 0.3
# a big result: its write takes long enough for a reader to meet it
printf '{"rc": 0, "stdout": "done-%s", "padding": "%s"}\\n' "$(cat "$1")" "$(head -c 400000 /dev/zero | tr '\\0' x)"
"""


def _async_status_read(path):
    """What ansible-core's async_status module makes of the file (None: not found)."""
    if not os.path.exists(path):
        return None
    with open(path) as fp:
        text = fp.read()
    data = json.loads(text)  # a torn file raises: async_status says "Could not parse job output"
    if 'started' not in data:
        data['finished'] = True
    elif 'finished' not in data:
        data['finished'] = False
    return data


def test_job_file_is_whole_at_every_read(tmp_path):
    async_dir = str(tmp_path / 'async')
    spec = {'kind': 'program', 'data': PROGRAM, 'interpreter': ['/bin/sh'], 'filename': 'job.sh',
            'args_data': b'host-1', 'temp_dir': str(tmp_path), 'async_jid': 'j123',
            'async_limit': 30, 'async_dir': async_dir}
    os.makedirs(async_dir)
    names = set(os.listdir(async_dir))
    started = runner.start_async(spec)
    assert started['rc'] == 0 and started['async']['started'], started
    path = started['async']['results_file']
    assert os.path.basename(path) not in names
    seen = []
    errors = []

    def poll():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                data = _async_status_read(path)
            except ValueError as exc:
                errors.append('torn read: %s' % exc)
                return
            if data is None:
                errors.append('job file missing after the job started')
                return
            seen.append(data['finished'])
            if data['finished']:
                if data.get('stdout') != 'done-host-1' or data.get('rc') != 0:
                    errors.append('finished without the result: %r' % ({k: v for k, v in data.items()
                                                                          if k != 'padding'},))
                return

    readers = [threading.Thread(target=poll) for _ in range(3)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert not errors, errors
    assert seen and not seen[0] and seen[-1]  # it was read running, then finished
    assert json.loads(open(path).read())['ansible_job_id'] == started['async']['ansible_job_id']
