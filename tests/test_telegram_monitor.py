"""The live Telegram source end to end: Telethon's real TL objects, paging and event
builders over an in-process fake Telegram, into the real pipeline and SQLite."""

from __future__ import annotations

import asyncio

import pytest
from telethon.events import album
from telethon.tl import functions, types

from monitors.telegram import Counters, Retry
from monitors.telegram.guard import SessionExpired
from monitors.telegram.retries import MAX_PASSES, FailedEvents
from storage import StorageError
from tests.fake_telegram import (
    T0,
    flood_wait,
)
from tests.telegram_harness import (
    CHANNELS,
    GOV,
    PHOTO,
    RDK,
    STRANGER,
    VIDEO,
    Harness,
    new_world,
    restart,
)


async def test_a_new_post_is_stored_with_its_channel(live):
    message = await live.world.publish(RDK, "Колонна вошла в Любечане", reply_to=None)
    post = (await live.posts())[(RDK, message.id)]
    assert post.text == "Колонна вошла в Любечане"
    assert post.channel_username == "rdk_front"
    assert post.date == message.date


async def test_an_edit_stores_a_new_version(live):
    message = await live.world.publish(RDK, "Заложников шесть")
    await live.world.edit(RDK, message.id, "Заложников нет")
    versions = await live.app.store.posts.versions(RDK, message.id)
    assert versions == [(1, "Заложников шесть"), (2, "Заложников нет")]
    assert (await live.posts())[(RDK, message.id)].edit_date is not None


async def test_a_deletion_is_marked_and_the_text_kept(live):
    message = await live.world.publish(GOV, "Диверсанты обстреляли машину")
    await live.world.delete(GOV, [message.id])
    stored = (await live.app.store.posts.lookup([(GOV, message.id)]))[(GOV, message.id)]
    assert stored.deleted
    assert await live.app.store.posts.versions(GOV, message.id) == [
        (1, "Диверсанты обстреляли машину")
    ]


async def test_an_album_is_one_post_listing_all_media(live, monkeypatch):
    monkeypatch.setattr(album, "_HACK_DELAY", 0.01)
    first = await live.world.publish(RDK, "Видео из села", media=PHOTO, grouped_id=77)
    await live.world.publish(RDK, "", media=PHOTO, grouped_id=77)
    await live.world.publish(RDK, "", media=VIDEO, grouped_id=77)
    await live.client.settle()
    posts = await live.posts()
    assert list(posts) == [(RDK, first.id)]
    assert posts[(RDK, first.id)].media == ("photo", "photo", "video_file")
    assert posts[(RDK, first.id)].text == "Видео из села"


async def test_editing_an_album_caption_keeps_the_album_whole(live, monkeypatch):
    monkeypatch.setattr(album, "_HACK_DELAY", 0.01)
    first = await live.world.publish(RDK, "", media=PHOTO, grouped_id=78)
    second = await live.world.publish(RDK, "Подпись", media=VIDEO, grouped_id=78)
    await live.client.settle()
    await live.world.edit(RDK, second.id, "Подпись, исправленная")
    posts = await live.posts()
    assert list(posts) == [(RDK, first.id)]
    assert posts[(RDK, first.id)].media == ("photo", "video_file")
    assert await live.app.store.posts.versions(RDK, first.id) == [
        (1, "Подпись"),
        (2, "Подпись, исправленная"),
    ]


async def test_a_forward_keeps_its_origin(live):
    header = types.MessageFwdHeader(
        date=T0, from_id=types.PeerChannel(1500000555), channel_post=55, post_author="Ред."
    )
    message = await live.world.publish(GOV, "Пересылаем", fwd_from=header)
    forward = (await live.posts())[(GOV, message.id)].forward
    assert (forward.channel_id, forward.message_id, forward.name) == (1500000555, 55, "Ред.")


async def test_updates_from_channels_not_followed_are_ignored(live):
    await live.world.publish(STRANGER, "Чужой канал")
    assert await live.posts() == {}
    assert live.monitor.counters.totals["ignored_update"] == 1


async def test_a_failing_update_is_counted_and_the_next_one_still_works(live, monkeypatch):
    real = live.app.process

    async def broken_once(posts):
        monkeypatch.setattr(live.app, "process", real)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(live.app, "process", broken_once)
    await live.world.publish(RDK, "Первый")
    second = await live.world.publish(RDK, "Второй")
    assert list(await live.posts()) == [(RDK, second.id)]
    assert live.monitor.counters.totals["handler_error"] == 1


async def test_configured_channels_are_joined_once_resolved(live):
    joined = live.client.sent(functions.channels.JoinChannelRequest)
    assert [request.channel.channel_id for request in joined] == [GOV]


async def test_history_flood_wait_is_waited_out(app):
    world = new_world()
    await world.client.connect()
    for n in range(5):
        world.post(RDK, f"Сообщение {n}")
    world.client.fail_next(functions.messages.GetHistoryRequest, flood_wait(3))
    harness = Harness(app, world)
    await harness.start()
    assert len(await harness.posts()) == 5
    assert 4 in harness.sleeps  # the 3 s Telegram asked for, plus a second of margin
    assert harness.monitor.counters.totals["flood_wait"] == 1


async def test_resolve_flood_wait_is_waited_out_and_resolutions_spaced(app):
    world = new_world()
    await world.client.connect()
    world.client.fail_next(functions.contacts.ResolveUsernameRequest, flood_wait(3))
    harness = Harness(app, world)
    await harness.start()
    assert set(harness.monitor.followed) == {RDK, GOV}
    assert len(world.client.sent(functions.contacts.ResolveUsernameRequest)) == 3
    assert harness.sleeps.count(0.5) == 1  # the spacing before the second resolution


async def test_a_restart_resolves_no_username_again(app, live):
    again = restart(live.world)
    await again.client.connect()
    await Harness(app, again).start()
    assert again.client.sent(functions.contacts.ResolveUsernameRequest) == []
    assert len(live.client.sent(functions.contacts.ResolveUsernameRequest)) == 2


async def test_posts_made_while_down_are_backfilled_exactly_once(app, live):
    before = await live.world.publish(RDK, "До остановки")
    missed = [live.world.post(RDK, f"Пока нас не было {n}") for n in range(130)]
    album_parts = [live.world.post(GOV, "", media=PHOTO, grouped_id=9) for _ in range(3)]

    again = Harness(app, restart(live.world), batch_size=50)
    await again.client.connect()
    await again.start()
    assert all(again.processed[(RDK, m.id)] == 1 for m in missed)
    read_on_start = again.processed.total()
    assert await again.monitor.reconcile() == 0
    assert again.processed.total() == read_on_start  # a later pass reads nothing again

    stored = await again.posts()
    assert len(stored) == 1 + len(missed) + 1
    assert stored[(GOV, album_parts[0].id)].media == ("photo",) * 3
    assert len(await app.store.posts.versions(RDK, before.id)) == 1


async def test_reconcile_picks_up_a_message_the_updates_dropped(live):
    live.world.post(RDK, "Потерянное обновление")
    await live.world.publish(RDK, "Следующее")
    assert len(await live.posts()) == 1
    assert await live.monitor.reconcile() == 0
    assert len(await live.posts()) == 2


async def test_reconcile_passes_never_overlap(live):
    """The scheduled pass and the one after a reconnect can be started together: the
    second waits for the first instead of reading the same channels at the same time."""
    sync, inside, most = live.monitor.history.sync, 0, 0

    async def counted(ref):
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        try:
            await asyncio.sleep(0)
            return await sync(ref)
        finally:
            inside -= 1

    live.monitor.history.sync = counted
    live.world.post(RDK, "Потерянное обновление")
    assert await asyncio.gather(live.monitor.reconcile(), live.monitor.reconcile()) == [0, 0]
    assert most == 1 and len(await live.posts()) == 1


async def test_reload_follows_added_and_drops_removed_channels(live):
    await live.start([{"id": "rdk_front"}, {"id": "someone_else"}])
    assert set(live.monitor.followed) == {RDK, STRANGER}
    await live.world.publish(GOV, "Уже не читаем")
    await live.world.publish(STRANGER, "Теперь читаем")
    assert [key[0] for key in await live.posts()] == [STRANGER]


async def test_a_channel_that_cannot_be_resolved_is_reported_not_fatal(live):
    await live.start([*CHANNELS, {"id": "no_such_chan"}, {"id": 1500000777}])
    assert live.monitor.counters.totals["resolve_error"] == 2
    assert set(live.monitor.followed) == {RDK, GOV}
    health = {c.name: c for c in await live.app.store.health.counters()}
    assert "no_such_chan" in health["resolve_error"].detail or health["resolve_error"].count == 2


def network_down(request) -> ConnectionError:
    return ConnectionError("network down")


def unreachable(request):
    raise network_down(request)


async def test_an_outage_resolving_one_channel_still_follows_the_others(app):
    world = new_world()
    await world.client.connect()
    ResolveUsername = functions.contacts.ResolveUsernameRequest
    world.client.fail_next(ResolveUsername, network_down, times=6)
    harness = Harness(app, world)
    await harness.start()  # Retry gives up on @rdk_front: the next channel is still followed
    assert set(harness.monitor.followed) == {GOV}
    assert list(harness.monitor.unresolved) == ["@rdk_front"]
    world.post(RDK, "Пока связи не было")
    assert await harness.monitor.reconcile() == 0  # the scheduled pass resolves it again
    assert set(harness.monitor.followed) == {RDK, GOV}
    assert harness.monitor.unresolved == {}
    assert [key[0] for key in await harness.posts()] == [RDK]


async def test_no_channel_resolvable_is_a_stall_until_one_is(app):
    world = new_world()
    await world.client.connect()
    ResolveUsername = functions.contacts.ResolveUsernameRequest
    world.client.on_request(ResolveUsername, unreachable)
    harness = Harness(app, world)
    stalls: list[int] = []
    harness.monitor.on_stall = stalls.append
    await harness.start()
    assert harness.monitor.followed == {}
    assert await harness.monitor.reconcile() == 2
    assert await harness.monitor.reconcile() == 2
    assert stalls == [1, 2]  # the service tells the chat at its STALL_PASSES
    world.client.on_request(ResolveUsername, world._resolve)
    assert await harness.monitor.reconcile() == 0
    assert stalls == [1, 2, 0]
    assert set(harness.monitor.followed) == {RDK, GOV}


async def test_channels_that_can_never_be_followed_are_a_stall_too(app):
    harness = Harness(app, new_world())
    stalls: list[int] = []
    harness.monitor.on_stall = stalls.append
    await harness.world.client.connect()
    await harness.start([{"id": "no_such_chan"}])
    assert await harness.monitor.reconcile() == 1
    assert stalls == [1]
    assert harness.monitor.unfollowable.keys() == {"@no_such_chan"}
    assert harness.client.sent(functions.contacts.ResolveUsernameRequest)[1:] == []


def break_processing(live: Harness, monkeypatch, times: int = 1) -> None:
    """The pipeline fails the next `times` batches (a locked disk, a stage bug)."""
    real, left = live.app.process, [times]

    async def broken(posts):
        if left[0] == 0:
            return await real(posts)
        left[0] -= 1
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(live.app, "process", broken)


async def test_a_failed_edit_of_an_old_post_is_stored_on_the_next_pass(live, monkeypatch):
    message = await live.world.publish(RDK, "Заложников шесть")
    await live.monitor.reconcile()  # history has passed it: only the retry can see the edit
    break_processing(live, monkeypatch)
    await live.world.edit(RDK, message.id, "Заложников нет")
    assert len(live.monitor.failed) == 1
    assert len(await live.app.store.posts.versions(RDK, message.id)) == 1
    assert await live.monitor.reconcile() == 0
    versions = await live.app.store.posts.versions(RDK, message.id)
    assert versions == [(1, "Заложников шесть"), (2, "Заложников нет")]
    assert len(live.monitor.failed) == 0
    [request] = live.client.sent(functions.channels.GetMessagesRequest)
    assert [i.id for i in request.id] == [message.id]


async def test_a_failed_deletion_is_marked_on_the_next_pass(live, monkeypatch):
    message = await live.world.publish(GOV, "Диверсанты обстреляли машину")
    real = live.app.store.posts.mark_deleted

    async def locked_once(*args):
        monkeypatch.setattr(live.app.store.posts, "mark_deleted", real)
        raise RuntimeError("database is locked")

    monkeypatch.setattr(live.app.store.posts, "mark_deleted", locked_once)
    await live.world.delete(GOV, [message.id])
    assert not (await live.app.store.posts.lookup([(GOV, message.id)]))[(GOV, message.id)].deleted
    await live.monitor.reconcile()
    assert (await live.app.store.posts.lookup([(GOV, message.id)]))[(GOV, message.id)].deleted


async def test_a_failed_album_edit_is_retried_as_one_whole_post(live, monkeypatch):
    monkeypatch.setattr(album, "_HACK_DELAY", 0.01)
    first = await live.world.publish(RDK, "Подпись", media=PHOTO, grouped_id=79)
    await live.world.publish(RDK, "", media=VIDEO, grouped_id=79)
    await live.client.settle()
    await live.monitor.reconcile()
    break_processing(live, monkeypatch)
    await live.world.edit(RDK, first.id, "Подпись, исправленная")
    await live.monitor.reconcile()
    post = (await live.posts())[(RDK, first.id)]
    assert (post.text, post.media) == ("Подпись, исправленная", ("photo", "video_file"))
    assert list(await live.posts()) == [(RDK, first.id)]


async def test_a_message_failing_every_pass_is_given_up(live, monkeypatch):
    message = await live.world.publish(RDK, "Первый")
    await live.monitor.reconcile()
    break_processing(live, monkeypatch, times=1 + MAX_PASSES)
    await live.world.edit(RDK, message.id, "Исправленный")
    for _ in range(MAX_PASSES):
        assert len(live.monitor.failed) == 1
        await live.monitor.reconcile()
    assert len(live.monitor.failed) == 0
    assert live.monitor.counters.totals["retry_dropped"] == 1
    assert live.monitor.counters.totals["retry_error"] == MAX_PASSES


async def test_the_retry_queue_is_bounded_oldest_first(live):
    failed = FailedEvents(
        live.client, live.app.store, live.app.process, Retry(Counters()), max_pending=2
    )
    await failed.add(RDK, [1, 2])
    await failed.add(GOV, [3])
    assert len(failed) == 2
    assert list(await live.app.store.retries.load()) == [(RDK, 2), (GOV, 3)]


async def test_a_failed_edit_survives_a_restart_before_the_next_pass(app, live, monkeypatch):
    message = await live.world.publish(RDK, "Заложников шесть")
    await live.monitor.reconcile()
    break_processing(live, monkeypatch)
    await live.world.edit(RDK, message.id, "Заложников нет")
    assert len(live.monitor.failed) == 1

    again = Harness(app, restart(live.world))  # the process died: the queue is on disk
    await again.client.connect()
    await again.start()
    assert await again.monitor.reconcile() == 0
    versions = await app.store.posts.versions(RDK, message.id)
    assert versions == [(1, "Заложников шесть"), (2, "Заложников нет")]
    assert await app.store.retries.load() == {}


async def test_a_database_that_cannot_keep_the_queue_leaves_it_in_memory(live, monkeypatch):
    message = await live.world.publish(RDK, "Заложников шесть")
    await live.monitor.reconcile()

    async def disk_full(pending):
        raise StorageError("database or disk is full")

    monkeypatch.setattr(live.app.store.retries, "save", disk_full)
    break_processing(live, monkeypatch)
    await live.world.edit(RDK, message.id, "Заложников нет")
    assert live.monitor.counters.totals["retry_save_error"] == 1
    assert await live.monitor.reconcile() == 0
    versions = await live.app.store.posts.versions(RDK, message.id)
    assert versions[-1] == (2, "Заложников нет")


async def test_an_expired_session_mid_pass_keeps_every_channel_queued(live, monkeypatch):
    failed = FailedEvents(live.client, live.app.store, live.app.process, Retry(Counters()))
    await failed.add(RDK, [1])
    await failed.add(GOV, [2])

    async def expired(ref, message_ids):
        raise SessionExpired("AUTH_KEY_UNREGISTERED")

    monkeypatch.setattr(failed, "_apply", expired)
    with pytest.raises(SessionExpired):
        await failed.retry(live.monitor.followed)
    assert await live.app.store.retries.load() == {(RDK, 1): 0, (GOV, 2): 0}
    assert len(failed) == 2
