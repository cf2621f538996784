"""`claimwatch login` through Telethon's own `start()` against an account served at the RPC
seam: the code request, the sign-in, and the two-step password, whose SRP proof Telethon
computes locally and the fake server really verifies."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import sqlite3
import stat

import pytest
from click.testing import CliRunner
from telethon import errors
from telethon import password as srp
from telethon.sessions import StringSession
from telethon.tl import functions, types

from bot.config import parse_config
from bot.login import ask_terminal, login
from bot.session import open_client
from tests.fake_telegram import FakeTelegramClient

ENV = {"CLAIMWATCH_API_ID": "12345", "CLAIMWATCH_API_HASH": "abcdef"}
PHONE, CODE, PASSWORD = "+44 7700 900123", "24680", "red lines erased"
ME = types.User(id=4243, is_self=True, access_hash=2, username="desk_analyst", phone="447700900123")
# Telegram's published SRP group: the one prime Telethon accepts without factoring it
# (a private constant of telethon.password.check_prime_and_good, pinned with Telethon).
GOOD_PRIME = bytes(
    next(c for c in srp.check_prime_and_good.__code__.co_consts if isinstance(c, tuple))
)
G = 3


class TwoStepPassword:
    """The server half of Telegram's SRP-2048: it keeps only the verifier v = g^x, hands
    out a fresh B for each attempt, and checks the client's proof M1 against it."""

    def __init__(self, password: str) -> None:
        self.algo = types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
            salt1=os.urandom(8), salt2=os.urandom(16), g=G, p=GOOD_PRIME
        )
        self._p = int.from_bytes(GOOD_PRIME, "big")
        self._v = pow(G, int.from_bytes(srp.compute_hash(self.algo, password), "big"), self._p)
        self._k = _int(_sha(GOOD_PRIME, _pad(G)))
        self._b = self._B = 0

    def challenge(self, request: object) -> types.account.Password:
        while True:
            self._b = int.from_bytes(os.urandom(256), "big")
            g_b = pow(G, self._b, self._p)
            if srp.is_good_mod_exp_first(g_b, self._p):
                break
        self._B = (self._k * self._v + g_b) % self._p
        return types.account.Password(
            new_algo=types.PasswordKdfAlgoUnknown(),
            new_secure_algo=types.SecurePasswordKdfAlgoUnknown(),
            secure_random=os.urandom(32),
            has_password=True,
            current_algo=self.algo,
            srp_B=_pad(self._B),
            srp_id=7,
        )

    def verify(self, check: types.InputCheckPasswordSRP) -> bool:
        a_pad, b_pad = _pad(int.from_bytes(check.A, "big")), _pad(self._B)
        u = _int(_sha(a_pad, b_pad))
        shared = pow(_int(check.A) * pow(self._v, u, self._p), self._b, self._p)
        proof = _sha(
            srp.xor(_sha(GOOD_PRIME), _sha(_pad(G))),
            _sha(self.algo.salt1),
            _sha(self.algo.salt2),
            a_pad,
            b_pad,
            _sha(_pad(shared)),
        )
        return check.srp_id == 7 and proof == check.M1


class Account:
    """One Telegram account that is not logged in on this client yet."""

    def __init__(self, password: str | None = None) -> None:
        self.password = TwoStepPassword(password) if password else None
        self.signed_in = False
        self.clients: list[FakeTelegramClient] = []

    def client(self, *args, **kwargs) -> FakeTelegramClient:
        """Stands in for TelegramClient in `open_client(client_type=...)`."""
        client = FakeTelegramClient(*args, **kwargs)
        client.on_request(functions.users.GetUsersRequest, self._me)
        client.on_request(functions.auth.SendCodeRequest, self._send_code)
        client.on_request(functions.auth.SignInRequest, self._sign_in)
        client.on_request(  # asked right after a login, to start following updates
            functions.updates.GetDifferenceRequest,
            lambda request: types.updates.DifferenceEmpty(date=request.date, seq=1),
        )
        if self.password:
            client.on_request(functions.account.GetPasswordRequest, self.password.challenge)
            client.on_request(functions.auth.CheckPasswordRequest, self._check_password)
        self.clients.append(client)
        return client

    def _me(self, request) -> list[types.User]:
        if not self.signed_in:
            raise errors.AuthKeyUnregisteredError(request=request)
        return [ME]

    def _send_code(self, request) -> types.auth.SentCode:
        assert request.phone_number == ME.phone
        return types.auth.SentCode(types.auth.SentCodeTypeApp(length=5), phone_code_hash="c0de")

    def _sign_in(self, request) -> types.auth.Authorization:
        if (request.phone_code_hash, request.phone_code) != ("c0de", CODE):
            raise errors.PhoneCodeInvalidError(request=request)
        if self.password:
            raise errors.SessionPasswordNeededError(request=request)
        return self._authorized()

    def _check_password(self, request) -> types.auth.Authorization:
        assert self.password is not None
        if not self.password.verify(request.password):
            raise errors.PasswordHashInvalidError(request=request)
        return self._authorized()

    def _authorized(self) -> types.auth.Authorization:
        self.signed_in = True
        return types.auth.Authorization(user=ME)


class Answers:
    """Scripted operator: answers in order, and remembers what was asked and how."""

    def __init__(self, *answers: str) -> None:
        self._answers = list(answers)
        self.asked: list[tuple[str, bool]] = []

    def __call__(self, question: str, hidden: bool) -> str:
        self.asked.append((question, hidden))
        return self._answers.pop(0)


def config_in(tmp_path):
    return parse_config({"telegram": {"session": str(tmp_path / "acct")}})


async def run_login(tmp_path, account: Account, ask, *, as_string: bool = False) -> str:
    out = io.StringIO()
    await login(
        config_in(tmp_path),
        as_string=as_string,
        out=out,
        env=ENV,
        open_user_client=functools.partial(open_client, client_type=account.client),
        ask=ask,
    )
    return out.getvalue()


async def test_login_with_a_code_saves_an_owner_only_session(tmp_path):
    account, answers = Account(), Answers(PHONE, CODE)
    said = await run_login(tmp_path, account, answers)

    assert "Logged in as @desk_analyst" in said and "acct.session" in said
    assert [hidden for _, hidden in answers.asked] == [False, False]
    [client] = account.clients
    [sign_in] = client.sent(functions.auth.SignInRequest)
    assert (sign_in.phone_number, sign_in.phone_code) == (ME.phone, CODE)
    assert not client.is_connected()
    path = tmp_path / "acct.session"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as db:  # Telethon's session, holding the account's key
        [(key,)] = db.execute("SELECT auth_key FROM sessions").fetchall()
    assert key == client._sender.auth_key.key


async def test_a_wrong_code_is_asked_again(tmp_path):
    account, answers = Account(), Answers(PHONE, "11111", CODE)
    assert "Logged in" in await run_login(tmp_path, account, answers)
    assert len(account.clients[0].sent(functions.auth.SignInRequest)) == 2


async def test_two_step_password_is_checked_by_srp_and_asked_hidden(tmp_path):
    account = Account(password=PASSWORD)
    answers = Answers(PHONE, CODE, "wrong guess", PASSWORD)
    assert "Logged in as @desk_analyst" in await run_login(tmp_path, account, answers)
    assert answers.asked[2][1] and answers.asked[3][1]  # the password is never echoed
    checks = account.clients[0].sent(functions.auth.CheckPasswordRequest)
    assert len(checks) == 2  # the wrong one was refused by the server's SRP check
    assert account.signed_in


async def test_a_wrong_password_every_time_fails_without_a_login(tmp_path):
    account = Account(password=PASSWORD)
    with pytest.raises(errors.PasswordHashInvalidError):
        await run_login(tmp_path, account, Answers(PHONE, CODE, "a", "b", "c"))
    assert not account.signed_in
    assert not account.clients[0].is_connected()


async def test_as_string_prints_a_string_session_and_writes_no_file(tmp_path):
    account = Account()
    said = await run_login(tmp_path, account, Answers(PHONE, CODE), as_string=True)
    printed = said.strip().splitlines()[-1]
    assert StringSession(printed).auth_key.key == account.clients[0]._sender.auth_key.key
    assert list(tmp_path.iterdir()) == []


async def test_the_terminal_prompts_read_stdin(tmp_path):
    """The CLI's own prompts (click), fed through stdin as an operator types."""
    account = Account(password=PASSWORD)
    with CliRunner().isolation(input=f"{PHONE}\n{CODE}\n{PASSWORD}\n") as (stdout, _, _):
        said = await run_login(tmp_path, account, ask_terminal)
    assert "Logged in as @desk_analyst" in said
    prompts = stdout.getvalue().decode()
    assert "Phone number" in prompts and "Two-step verification password" in prompts
    assert PASSWORD not in prompts  # hidden input is not echoed
    assert account.signed_in


def _sha(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def _pad(number: int) -> bytes:
    return number.to_bytes(256, "big")


def _int(data: bytes) -> int:
    return int.from_bytes(data, "big")
