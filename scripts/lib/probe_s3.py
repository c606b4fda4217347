"""Probes what an S3 server does with the requests ferry's quirks are about, by raw SigV4
requests (botocore signs, requests sends; both come with moto in .tools/venv):

    .tools/venv/bin/python scripts/lib/probe_s3.py http://127.0.0.1:PORT ACCESS_KEY SECRET_KEY

Prints one line per probe: what was sent, the status and what it means. The catalogue's
profiles for real servers were set from this output (see docs/providers.md).
"""

import base64
import hashlib
import struct
import sys
import threading
import uuid
import zlib
from urllib.parse import quote

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ENDPOINT, ACCESS, SECRET = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
if not ENDPOINT.startswith(("http://127.0.0.1:", "http://localhost:")):
    sys.exit("probe_s3: only servers on 127.0.0.1 are probed")
CREDS = Credentials(ACCESS, SECRET)
WRONG = '"0123456789abcdef0123456789abcdef"'


def req(method, path, body=b"", headers=None, params=""):
    url = f"{ENDPOINT}{path}" + (f"?{params}" if params else "")
    h = dict(headers or {})
    h["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    r = AWSRequest(method=method, url=url, data=body, headers=h)
    SigV4Auth(CREDS, "s3", "us-east-1").add_auth(r)
    p = r.prepare()
    return requests.request(method, p.url, headers=dict(p.headers), data=body, timeout=30)


def body_of(b, key):
    return req("GET", f"{b}/{key}").content


def line(what, status, meaning):
    print(f"{what:<58} {status:<14} {meaning}")


def race(n, send):
    statuses = []
    threads = [threading.Thread(target=lambda i=i: statuses.append(send(i))) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(statuses)


def multipart(key, parts, headers=None):
    r = req("POST", key, params="uploads")
    uid = quote(r.text.split("<UploadId>")[1].split("</UploadId>")[0], safe="")
    etags = [req("PUT", key, d, params=f"partNumber={i}&uploadId={uid}").headers["ETag"] for i, d in enumerate(parts, 1)]
    xml = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{i}</PartNumber><ETag>{e}</ETag></Part>" for i, e in enumerate(etags, 1)
    ) + "</CompleteMultipartUpload>"
    return req("POST", key, xml.encode(), headers, params=f"uploadId={uid}"), etags


def main():
    b = "/probe-" + uuid.uuid4().hex[:8]
    req("PUT", b)
    req("PUT", f"{b}/a", b"one")
    etag = req("HEAD", f"{b}/a").headers["ETag"]

    r = req("PUT", f"{b}/a", b"two", {"If-None-Match": "*"})
    line("PutObject If-None-Match: * over an object", r.status_code, "kept" if body_of(b, "a") == b"one" else "OVERWRITTEN")
    wins = race(8, lambda i: req("PUT", f"{b}/race", b"w%d" % i, {"If-None-Match": "*"}).status_code)
    line("8 concurrent creators, If-None-Match: *", " ".join(map(str, wins)), f"{wins.count(200)} winner(s)")

    for label, value in [("quoted", etag), ("bare", etag.strip('"'))]:
        req("PUT", f"{b}/cas", b"base")
        current = req("HEAD", f"{b}/cas").headers["ETag"]
        value = current if label == "quoted" else current.strip('"')
        r = req("PUT", f"{b}/cas", b"swapped", {"If-Match": value})
        line(f"PutObject If-Match, right etag {label}", r.status_code, "swapped" if body_of(b, "cas") == b"swapped" else "not swapped")
    r = req("PUT", f"{b}/a", b"x", {"If-Match": WRONG})
    line("PutObject If-Match, wrong etag", r.status_code, "kept" if body_of(b, "a") == b"one" else "OVERWRITTEN")
    r = req("PUT", f"{b}/missing", b"x", {"If-Match": etag})
    line("PutObject If-Match on a missing key", r.status_code, "")
    for label in ["quoted", "bare"]:
        req("PUT", f"{b}/c", b"base")
        current = req("HEAD", f"{b}/c").headers["ETag"]
        value = current if label == "quoted" else current.strip('"')
        wins = race(8, lambda i: req("PUT", f"{b}/c", b"w%d" % i, {"If-Match": value}).status_code)
        line(f"8 concurrent compare-and-swaps, {label} etag", " ".join(map(str, wins)), f"{wins.count(200)} winner(s)")

    part = b"p" * (5 << 20)
    r, etags = multipart(f"{b}/mp", [part, b"tail"])
    head = req("HEAD", f"{b}/mp").headers.get("ETag")
    said = r.text.split("<ETag>")[1].split("</ETag>")[0] if "<ETag>" in r.text else None
    line("CompleteMultipartUpload: ETag in the answer", r.status_code, repr(said))
    md5 = hashlib.md5(b"".join(bytes.fromhex(e.strip('"')) for e in etags)).hexdigest() + "-2"
    line("  HEAD etag; md5-of-parts?", "", f"{head} {'yes' if head.strip(chr(34)) == md5 else 'no'}")
    r, _ = multipart(f"{b}/mp", [part, b"new"], {"If-None-Match": "*"})
    line("CompleteMultipartUpload If-None-Match: * over an object", r.status_code, "")
    r, _ = multipart(f"{b}/mp", [part, b"new"], {"If-Match": WRONG})
    line("CompleteMultipartUpload If-Match, wrong etag", r.status_code, "")

    for i, (label, extra) in enumerate([("no checksum", None), ("CRC32 only", "crc"), ("Content-MD5", "md5")]):
        req("PUT", f"{b}/d{i}", b"x")
        body = f"<Delete><Quiet>true</Quiet><Object><Key>d{i}</Key></Object></Delete>".encode()
        headers = {}
        if extra == "crc":
            headers = {"x-amz-checksum-crc32": base64.b64encode(struct.pack(">I", zlib.crc32(body))).decode()}
        elif extra == "md5":
            headers = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
        r = req("POST", b, body, headers, params="delete")
        gone = req("HEAD", f"{b}/d{i}").status_code == 404
        line(f"DeleteObjects, {label}", r.status_code, "deleted" if gone else "NOT deleted")

    for k in ["a b", "a/b0/c", "a0"]:
        req("PUT", f"{b}/{k}", b"x")
    r = req("GET", b, params="list-type=2&prefix=a")
    keys = [k.split("</Key>")[0] for k in r.text.split("<Key>")[1:]]
    line("ListObjectsV2 order of a/b0/c, a b, a0", r.status_code, f"{keys} {'byte order' if keys == sorted(keys) else 'NOT byte order'}")
    r = req("GET", b, params="list-type=2&encoding-type=url&prefix=a")
    said = "<EncodingType>url</EncodingType>" in r.text
    keys = [k.split("</Key>")[0] for k in r.text.split("<Key>")[1:]]
    line("ListObjectsV2 encoding-type=url, keys under a", r.status_code, f"{keys}, says encoded: {said}")
    r = req("GET", b, params="prefix=a&max-keys=1")
    line("ListObjects (v1) with max-keys=1", r.status_code, "truncated" if "<IsTruncated>true" in r.text else "")


if __name__ == "__main__":
    main()
