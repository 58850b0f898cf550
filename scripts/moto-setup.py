#!/usr/bin/env python3
"""Prepares a fresh moto_server (started with authentication off) for the archive tests: an
IAM user with a policy allowing the S3 actions the archive uses, an access key, the buckets
asked for (NAME, or NAME:lock for one with object lock), then switches signature checking on
(moto's reset-auth). Prints {"access_key": ..., "secret_key": ...}.

    scripts/moto-setup.py http://127.0.0.1:PORT audit locked:lock
"""
import json
import sys
import urllib.request

import botocore.session

endpoint, buckets = sys.argv[1], sys.argv[2:]
session = botocore.session.get_session()
kw = dict(region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="setup", aws_secret_access_key="setup")
iam = session.create_client("iam", **kw)
iam.create_user(UserName="auditlog")
iam.put_user_policy(UserName="auditlog", PolicyName="archive", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": [
        "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket", "s3:PutObjectRetention",
        "s3:GetObjectRetention", "s3:CreateBucket", "s3:GetBucketObjectLockConfiguration",
        "s3:PutBucketObjectLockConfiguration"], "Resource": "*"}]}))
key = iam.create_access_key(UserName="auditlog")["AccessKey"]
s3 = session.create_client("s3", **kw)
for spec in buckets:
    name, _, flag = spec.partition(":")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=(flag == "lock"))
request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
urllib.request.urlopen(request).read()
print(json.dumps({"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}))
