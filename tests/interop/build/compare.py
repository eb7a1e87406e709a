#!/usr/bin/env python3
"""compare.py - compares what `berth build` and `buildah bud` made (tests/interop/build_compat_test.sh).

  compare.py trees BERTH.tar BUILDAH.tar [--base BASE.tar] [--workdir DIR] [--volume DIR]...
                 [--ignore PATH]...
      The root filesystems of two docker-archive images (`berth save`, `buildah push
      IMG docker-archive:F`), each built by applying its layers in order (whiteouts
      `.wh.NAME` and opaque directories `.wh..wh..opq` honoured). Compared per path: type,
      mode (permission bits, setuid/setgid/sticky), uid, gid, content (sha256) and
      symlink target. Modification times are ignored. A hard link counts as a regular file
      with its target's content. Prints one line per difference; exit 1 if any.
      --base: the FROM image; buildah's RUN mount stubs are recognised against it (below).
      --workdir: the image's WORKDIR, which buildah may not have made (below).
      --volume: a VOLUME of the image, whose directory buildah may have made (below).
  compare.py config BERTH_INSPECT.json BUILDAH_INSPECT.json [--docker FIELD=JSON]...
      The config fields of `berth image inspect` ([0].Config) and `buildah inspect --type
      image` (.Docker.config, the images are built with --format docker): Env, Cmd,
      Entrypoint, WorkingDir, User, ExposedPorts, Labels, Volumes, StopSignal, Healthcheck,
      Shell, OnBuild. Exit 1 if any differs. --docker: docker's value of FIELD, compared
      instead of buildah's (for a documented buildah quirk).
  compare.py entry ARCHIVE PATH
      One path of an image's root filesystem as JSON (type, mode, uid, gid, size, sha256,
      link, text: the content when it is short UTF-8), or `null` when absent.
  compare.py list ARCHIVE
      Every path, one JSON object a line (debugging).
  compare.py tar OUT.tar.gz KIND
      Writes a tarball for the ADD tests: bundle (.tar.gz) and plain (.tar), owners, modes,
      links; escape-WAY MARKER HOSTDIR (.tar.gz), an entry that tries to leave the
      destination (WAY: dotdot, deep, abs, symlink, relsymlink, hardlink).
"""
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile

WHITEOUT = '.wh.'
OPAQUE = '.wh..wh..opq'


def norm(name):
    """A tar member name as a path relative to the root, no `./`, no trailing slash."""
    parts = []
    for p in name.split('/'):
        if p in ('', '.'):
            continue
        if p == '..':
            if parts:
                parts.pop()
            continue
        parts.append(p)
    return '/'.join(parts)


def kind(m):
    if m.isdir():
        return 'dir'
    if m.issym():
        return 'symlink'
    if m.islnk():
        return 'hardlink'
    if m.isreg():
        return 'file'
    if m.ischr():
        return 'char'
    if m.isblk():
        return 'block'
    if m.isfifo():
        return 'fifo'
    return 'other'


def read_layers(archive):
    """The (layer tarfile) list of a docker-archive, bottom first."""
    outer = tarfile.open(archive, 'r:*')
    manifest = json.load(outer.extractfile('manifest.json'))
    if len(manifest) != 1:
        raise SystemExit(f'{archive}: expected one image in manifest.json, found {len(manifest)}')
    layers = []
    for name in manifest[0]['Layers']:
        data = outer.extractfile(name).read()
        layers.append(tarfile.open(fileobj=io.BytesIO(data), mode='r:*'))
    return layers


def rootfs(archive):
    """path -> entry dict, the image's root filesystem after all layers."""
    tree = {}
    for layer in read_layers(archive):
        members = layer.getmembers()
        before = dict(tree)  # whiteouts act on the layers below only
        # 1. whiteouts
        for m in members:
            path = norm(m.name)
            base = path.rsplit('/', 1)[-1]
            parent = path.rsplit('/', 1)[0] if '/' in path else ''
            if base == OPAQUE:
                pre = parent + '/' if parent else ''
                for p in list(before):
                    if p.startswith(pre) and p != parent and p in tree:
                        del tree[p]
            elif base.startswith(WHITEOUT):
                victim = (parent + '/' if parent else '') + base[len(WHITEOUT):]
                for p in list(tree):
                    if p == victim or p.startswith(victim + '/'):
                        del tree[p]
        # 2. entries
        for m in members:
            path = norm(m.name)
            base = path.rsplit('/', 1)[-1]
            if base.startswith(WHITEOUT):
                continue
            if path == '':
                continue  # the root directory itself
            e = {'type': kind(m), 'mode': '%04o' % (m.mode & 0o7777), 'uid': m.uid, 'gid': m.gid}
            if m.isreg():
                data = layer.extractfile(m).read()
                e['size'] = len(data)
                e['sha256'] = hashlib.sha256(data).hexdigest()
                if len(data) <= 512:
                    try:
                        e['text'] = data.decode('utf-8')
                    except UnicodeDecodeError:
                        pass
            elif m.issym():
                e['link'] = m.linkname
            elif m.islnk():
                target = tree.get(norm(m.linkname))
                e['type'] = 'file'
                for k in ('size', 'sha256', 'text'):
                    if target and k in target:
                        e[k] = target[k]
                e['hardlink'] = norm(m.linkname)
            elif m.ischr() or m.isblk():
                e['dev'] = f'{m.devmajor}:{m.devminor}'
            # replacing a directory with a non-directory drops what was below it
            old = tree.get(path)
            if old and old['type'] == 'dir' and e['type'] != 'dir':
                for p in list(tree):
                    if p.startswith(path + '/'):
                        del tree[p]
            tree[path] = e
    return tree


def describe(e):
    if e is None:
        return 'absent'
    s = f"{e['type']} {e['mode']} {e['uid']}:{e['gid']}"
    if e['type'] == 'file':
        s += f" {e.get('size', '?')} bytes sha256:{e.get('sha256', '?')[:12]}"
        if 'text' in e:
            s += ' ' + json.dumps(e['text'][:80])
    if e['type'] == 'symlink':
        s += ' -> ' + e['link']
    return s


# RUN mount stubs: buildah 1.28 bind-mounts /etc/hosts, /etc/resolv.conf and /etc/hostname
# into every RUN container and, when the image lacks them, creates empty files (mode 0755)
# as mount points that stay in the committed layer. docker (BuildKit's MountStubsCleaner)
# removes the stubs it creates, so a docker-built image has none of these. They are ignored
# only when buildah's file is empty, the base image lacks the path and berth has no such path.
BUILDAH_STUBS = ('etc/hosts', 'etc/resolv.conf', 'etc/hostname')

# WORKDIR: buildah 1.28 makes the directory only when a later RUN, COPY or ADD needs it; the
# Dockerfile reference says "If the WORKDIR doesn't exist, it will be created even if it's
# not used in any subsequent Dockerfile instruction" (BuildKit: llb.Mkdir in
# dispatchWorkdir). A --workdir directory (and its parents) that berth made and buildah
# lacks is therefore not a difference.
#
# VOLUME: buildah 1.28 creates each declared volume directory (and missing parents) in the
# image when a later RUN runs, as mount points. docker only records the volume in the config
# (BuildKit's dispatchVolume touches no files; the engine makes the directory when a
# container starts). A --volume directory (or parent of one) that only buildah has is
# therefore not a difference.


def cmd_trees(args):
    berth_ar, buildah_ar = args[0], args[1]
    base_ar = None
    ignore = set()
    workdirs = set()
    volumes = set()
    i = 2
    while i < len(args):
        if args[i] == '--base':
            base_ar = args[i + 1]
            i += 2
        elif args[i] == '--workdir':
            if args[i + 1]:
                workdirs.add(norm(args[i + 1]))
            i += 2
        elif args[i] == '--volume':
            volumes.add(norm(args[i + 1]))
            i += 2
        elif args[i] == '--ignore':
            ignore.add(norm(args[i + 1]))
            i += 2
        else:
            raise SystemExit(f'compare.py trees: unknown argument {args[i]}')
    a = rootfs(berth_ar)
    b = rootfs(buildah_ar)
    base = rootfs(base_ar) if base_ar else {}
    diffs = []
    ignored = []
    for path in sorted(set(a) | set(b)):
        ea, eb = a.get(path), b.get(path)
        if path in ignore or any(path.startswith(p + '/') for p in ignore):
            if ea != eb:
                ignored.append(path)
            continue
        if (path in BUILDAH_STUBS and ea is None and eb is not None and eb['type'] == 'file'
                and eb.get('size') == 0 and path not in base):
            ignored.append(path + ' (buildah RUN mount stub)')
            continue
        if (ea is not None and eb is None and ea['type'] == 'dir'
                and any(w == path or w.startswith(path + '/') for w in workdirs)):
            ignored.append(path + ' (WORKDIR buildah did not make)')
            continue
        if (ea is None and eb is not None and eb['type'] == 'dir'
                and any(v == path or v.startswith(path + '/') for v in volumes)):
            ignored.append(path + ' (VOLUME mount point buildah made)')
            continue
        if ea is None or eb is None:
            diffs.append(f'/{path}: berth {describe(ea)}; buildah {describe(eb)}')
            continue
        fields = ['type', 'mode', 'uid', 'gid', 'sha256', 'link', 'dev']
        bad = [f for f in fields if ea.get(f) != eb.get(f)]
        if bad:
            diffs.append(f'/{path}: {"/".join(bad)} differ: berth {describe(ea)}; buildah {describe(eb)}')
    for p in ignored:
        print(f'  (ignored) /{p}')
    for d in diffs:
        print(f'  DIFF {d}')
    print(f'  {len(a)} paths (berth), {len(b)} paths (buildah), {len(diffs)} differences')
    return 1 if diffs else 0


CONFIG_FIELDS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Labels',
                 'Volumes', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild']


def empty(v):
    return v is None or v == [] or v == {} or v == ''


def norm_config(field, v):
    # Absent, null and empty are one value in docker's JSON (omitempty): compared as None.
    if empty(v):
        return None
    if field == 'Healthcheck' and isinstance(v, dict):
        # zero durations/retries are omitted by docker's encoder (omitempty) and mean "default"
        v = {k: x for k, x in v.items() if not empty(x) and x != 0}
    if field == 'Labels' and isinstance(v, dict):
        # buildah stamps every image it builds with its own version; docker adds nothing
        v = {k: x for k, x in v.items() if k != 'io.buildah.version'}
        if not v:
            return None
    return v


def cmd_config(args):
    with open(args[0]) as f:
        a = json.load(f)
    with open(args[1]) as f:
        b = json.load(f)
    # --docker FIELD=JSON: docker's value of FIELD for this build, where buildah's own
    # differs by a quirk of buildah's (each use in build_compat_test.sh says which)
    docker = {}
    rest = args[2:]
    while rest:
        if rest[0] != '--docker' or len(rest) < 2:
            raise SystemExit(f'compare.py config: unknown argument {rest[0]}')
        k, _, v = rest[1].partition('=')
        docker[k] = json.loads(v)
        rest = rest[2:]
    if isinstance(a, list):
        a = a[0]
    ca = a.get('Config') or {}
    cb = (b.get('Docker') or {}).get('config') or {}
    diffs = 0
    for field in CONFIG_FIELDS:
        va, vb = norm_config(field, ca.get(field)), norm_config(field, cb.get(field))
        who = 'buildah'
        if field in docker:
            want = norm_config(field, docker[field])
            if vb != want:
                print(f'  (buildah quirk) config {field}: buildah {json.dumps(vb)}, docker {json.dumps(want)}')
            vb, who = want, 'docker'
        if va != vb:
            diffs += 1
            print(f'  DIFF config {field}: berth {json.dumps(va)}; {who} {json.dumps(vb)}')
    print(f'  {len(CONFIG_FIELDS)} config fields, {diffs} differences')
    return 1 if diffs else 0


def cmd_entry(args):
    tree = rootfs(args[0])
    print(json.dumps(tree.get(norm(args[1]))))
    return 0


def cmd_list(args):
    tree = rootfs(args[0])
    for p in sorted(tree):
        print(json.dumps({'path': '/' + p, **tree[p]}))
    return 0


def cmd_tar(args):
    out, what = args[0], args[1]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as t:
        def add(name, data=b'', type_=tarfile.REGTYPE, link=''):
            i = tarfile.TarInfo(name)
            i.type = type_
            i.mode = 0o755 if type_ in (tarfile.DIRTYPE, tarfile.SYMTYPE) else 0o644
            i.linkname = link
            i.size = len(data) if type_ == tarfile.REGTYPE else 0
            t.addfile(i, io.BytesIO(data) if type_ == tarfile.REGTYPE else None)
        if what.startswith('escape-'):
            # args: MARKER (a unique name) HOSTDIR (an existing host directory)
            marker, hostdir = args[2], args[3]
            way = what[len('escape-'):]
            add('ok/', type_=tarfile.DIRTYPE)
            add('ok/inside.txt', b'harmless\n')
            if way == 'dotdot':
                add(f'../../{marker}-dotdot', b'escaped by ..\n')
            elif way == 'deep':
                add(f'../../../../../../../../../../tmp/{marker}-deep', b'escaped by many ..\n')
            elif way == 'abs':
                add(f'/tmp/{marker}-abs', b'escaped by an absolute name\n')
            elif way == 'symlink':
                add('lnk', type_=tarfile.SYMTYPE, link=hostdir)
                add(f'lnk/{marker}-through-symlink', b'escaped through a symlink\n')
            elif way == 'relsymlink':
                add('rel', type_=tarfile.SYMTYPE, link='../../../../../../../../..' + hostdir)
                add(f'rel/{marker}-through-relative-symlink', b'escaped through a relative symlink\n')
            elif way == 'hardlink':
                add(f'{marker}-hard', type_=tarfile.LNKTYPE, link='/etc/passwd')
            else:
                raise SystemExit(f'compare.py tar: unknown escape {way}')
        elif what in ('bundle', 'plain'):
            def entry(name, type_=tarfile.REGTYPE, data=b'', mode=0o644, uid=0, gid=0, link=''):
                i = tarfile.TarInfo(name)
                i.type, i.mode, i.uid, i.gid, i.linkname = type_, mode, uid, gid, link
                i.mtime = 1700000000
                i.size = len(data) if type_ == tarfile.REGTYPE else 0
                t.addfile(i, io.BytesIO(data) if type_ == tarfile.REGTYPE else None)
            p = 'bundle' if what == 'bundle' else 'plain'
            entry(f'./{p}/', tarfile.DIRTYPE, mode=0o755)
            entry(f'./{p}/bin/', tarfile.DIRTYPE, mode=0o750, uid=1000, gid=1000)
            entry(f'./{p}/bin/tool', data=b'#!/bin/sh\necho tool\n', mode=0o755, uid=1000, gid=1000)
            entry(f'./{p}/etc/', tarfile.DIRTYPE, mode=0o755)
            entry(f'./{p}/etc/tool.conf', data=b'conf=1\n', mode=0o640, gid=65534)
            # a hard link's header carries its inode's metadata, as tar writes it
            entry(f'./{p}/etc/hard.conf', tarfile.LNKTYPE, link=f'./{p}/etc/tool.conf', mode=0o640, gid=65534)
            # a hard link whose header says otherwise: docker's pkg/archive (and buildah)
            # chmod and lchown the link's path, i.e. the shared inode, to the header's values
            entry(f'./{p}/etc/other.conf', data=b'other=1\n', mode=0o600, uid=1000, gid=1000)
            entry(f'./{p}/etc/odd-hard.conf', tarfile.LNKTYPE, link=f'./{p}/etc/other.conf', mode=0o644)
            entry(f'./{p}/tool-link', tarfile.SYMTYPE, link='bin/tool', mode=0o777)
            entry(f'./{p}/empty/', tarfile.DIRTYPE, mode=0o700)
            entry(f'./{p}/setuid', data=b'x\n', mode=0o4755)
            entry('./top.txt', data=f'top of {p}\n'.encode(), mode=0o600)
        else:
            raise SystemExit(f'compare.py tar: unknown kind {what}')
    data = buf.getvalue()
    with open(out, 'wb') as f:
        f.write(data if what == 'plain' else gzip.compress(data, mtime=0))
    return 0


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd = {'trees': cmd_trees, 'config': cmd_config, 'entry': cmd_entry, 'list': cmd_list,
           'tar': cmd_tar}.get(sys.argv[1])
    if cmd is None:
        sys.stderr.write(__doc__)
        return 2
    return cmd(sys.argv[2:])


if __name__ == '__main__':
    sys.exit(main())
