"""A test CA and an HTTP certificate for an HTTPS node (needs the `cryptography` package)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Dict

from es_sandbox.common import ESSandboxError


def require_cryptography() -> None:
    """HTTPS mode only: say in one line what to install when `cryptography` is missing."""
    import importlib.util

    if importlib.util.find_spec("cryptography") is None:
        raise ESSandboxError(
            "an HTTPS node needs the `cryptography` package for its test CA: "
            "pip install cryptography (or pip install -e '.[test]')"
        )


def write_certificates(config_dir: Path) -> Dict[str, Any]:
    """CA + certificate for 127.0.0.1/localhost under ``config_dir/certs``; returns paths and fingerprints."""
    require_cryptography()
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = _dt.datetime.now(_dt.timezone.utc)
    start = now - _dt.timedelta(days=1)
    end = now + _dt.timedelta(days=30)

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orx-elastic test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=True,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    certs = config_dir / "certs"
    certs.mkdir()
    pem = serialization.Encoding.PEM
    (certs / "ca.crt").write_bytes(ca_cert.public_bytes(pem))
    (certs / "http.crt").write_bytes(cert.public_bytes(pem))
    (certs / "http.key").write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return {
        "ca_path": certs / "ca.crt",
        # As Elasticsearch prints it: SHA-256 of the DER certificate, lower-case hex.
        "fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
        "ca_fingerprint": ca_cert.fingerprint(hashes.SHA256()).hex(),
    }
