// matrix-js-sdk, as an app uses it, against `mxpresence serve`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClientEvent, SyncState, UserEvent, createClient } from "matrix-js-sdk";
import { describeCalls, listVariations, startMock } from "./mock.js";

// How long a presence change may take to reach the other user's app. The
// SDK long-polls /sync for 30 s, so arriving sooner means the change woke
// the waiting request.
const presenceDeadlineMs = 5_000;
const preparedDeadlineMs = 20_000;

// quietLogger keeps the SDK's warnings and errors for the failure message
// and drops its chatter.
function quietLogger(lines = []) {
    const keep = (level) => (...msg) => lines.push(`${level}: ${msg.map(String).join(" ")}`);
    const logger = {
        lines,
        trace() {},
        debug() {},
        info() {},
        warn: keep("warn"),
        error: keep("error"),
        getChild: () => logger,
    };
    return logger;
}

// sdkLogs holds each client's kept log lines, for failure messages.
const sdkLogs = new WeakMap();

// newUser registers in one request with m.login.dummy and no session, logs
// in with the password, and returns a client holding that login.
async function newUser(baseUrl, localpart) {
    const logger = quietLogger();
    const anonymous = createClient({ baseUrl, logger });
    const password = `${localpart}-password`;
    const registered = await anonymous.registerRequest({
        username: localpart,
        password,
        auth: { type: "m.login.dummy" },
    });
    assert.match(registered.user_id, new RegExp(`^@${localpart}:`), "registered user_id");
    const login = await anonymous.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: localpart },
        password,
    });
    assert.equal(login.user_id, registered.user_id, "the login's user_id");
    const client = createClient({
        baseUrl,
        userId: login.user_id,
        accessToken: login.access_token,
        deviceId: login.device_id,
        logger,
    });
    sdkLogs.set(client, logger.lines);
    return client;
}

// diagnoseCalls prints the requests the SDK made, one diagnostic line each
// (TAP escapes newlines inside one).
function diagnoseCalls(t, calls) {
    t.diagnostic("requests the mock served:");
    for (const line of describeCalls(calls).split("\n")) t.diagnostic(line);
}

// deadline rejects after ms with a message built when it fires, so the
// message can list the requests made until then.
function deadline(ms, message) {
    let timer;
    const promise = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(message())), ms);
    });
    return { promise, cancel: () => clearTimeout(timer) };
}

// startAndWaitPrepared starts the client and resolves once its first sync
// is processed (SyncState PREPARED), failing after preparedDeadlineMs with
// the sync errors seen and the requests the mock refused.
async function startAndWaitPrepared(client, mock) {
    const errors = [];
    const prepared = new Promise((resolve) => {
        client.on(ClientEvent.Sync, (state, _prev, data) => {
            if (state === SyncState.Error) errors.push(String(data?.error ?? "unknown sync error"));
            if (state === SyncState.Prepared) resolve();
        });
    });
    const limit = deadline(preparedDeadlineMs, () =>
        `startClient did not reach PREPARED within ${preparedDeadlineMs} ms.\n` +
        `sync errors: ${errors.join("; ") || "none"}\n` +
        `refused requests:\n${describeCalls(mock.failed())}\n` +
        `SDK warnings and errors:\n  ${sdkLogs.get(client)?.slice(0, 20).join("\n  ")}`);
    try {
        await client.startClient({ initialSyncLimit: 1 });
        await Promise.race([prepared, limit.promise]);
    } finally {
        limit.cancel();
    }
}

test("startClient reaches PREPARED", { timeout: 60_000 }, async (t) => {
    const mock = await startMock();
    t.after(() => mock.stop());
    const alice = await newUser(mock.baseUrl, "alice");
    t.after(() => alice.stopClient());
    const { room_id: roomId } = await alice.createRoom({ name: "interop" });

    await startAndWaitPrepared(alice, mock);
    // The initial sync listed the room she is in.
    assert.ok(alice.getRoom(roomId), `after PREPARED the client knows no room ${roomId}`);
    diagnoseCalls(t, mock.calls);
});

test("the app receives the other user's presence after setPresence", { timeout: 60_000 }, async (t) => {
    const { user, afterMs, mock } = await presenceThroughApp(t);
    assert.ok(user, `bob's app did not receive alice's presence within ${presenceDeadlineMs} ms.\n` +
        `refused requests:\n${describeCalls(mock.failed())}`);
    assert.equal(user.presence, "online");
    t.diagnostic(`alice's presence reached bob's app ${Math.round(afterMs)} ms after she set it`);
    diagnoseCalls(t, mock.calls);
});

// The same scenario against a mock whose /sync drops presence: nothing may
// arrive within the same deadline, or the test above could not tell a broken
// server from a good one.
test("the app receives nothing from a mock whose /sync drops presence", { timeout: 60_000 }, async (t) => {
    const { user, afterMs } = await presenceThroughApp(t, ["--fault", "sync-without-presence"]);
    assert.equal(user, null, `presence arrived ${Math.round(afterMs)} ms after setPresence despite the fault`);
});

// A correct client copes with every variation the spec allows, so under each
// the presence must still arrive. One test per variation, each bounded alone.
const variations = listVariations();
test("the mock lists its variations", () => {
    assert.ok(variations.length > 0, "mxpresence serve --list-faults listed no variations");
});
for (const name of variations) {
    test(`the app receives presence under variation ${name}`, { timeout: 60_000 }, async (t) => {
        const { user, afterMs } = await presenceThroughApp(t, ["--variation", name]);
        assert.ok(user, `under variation ${name}, no presence within ${presenceDeadlineMs} ms`);
        t.diagnostic(`delivered after ${Math.round(afterMs)} ms`);
    });
}

test("account calls: whoami, capabilities, username check, joined rooms, logout", { timeout: 60_000 }, async (t) => {
    const mock = await startMock();
    t.after(() => mock.stop());
    const carol = await newUser(mock.baseUrl, "carol");

    const me = await carol.whoami();
    assert.equal(me.user_id, carol.getUserId(), "whoami's user_id");
    assert.equal(me.device_id, carol.getDeviceId(), "whoami's device_id");
    // A capability left out means "yes" for a password change; the mock
    // has none and says so.
    const caps = await carol.getCapabilities();
    assert.equal(caps["m.change_password"]?.enabled, false, "m.change_password");
    assert.equal(await carol.isUsernameAvailable("dave"), true, "a free name is available");
    // The SDK turns the 400 M_USER_IN_USE into false.
    assert.equal(await carol.isUsernameAvailable("carol"), false, "a taken name is not available");

    const { room_id: roomId } = await carol.createRoom({ name: "interop" });
    assert.deepEqual((await carol.getJoinedRooms()).joined_rooms, [roomId]);

    await carol.logout();
    await assert.rejects(carol.whoami(), { errcode: "M_UNKNOWN_TOKEN" }, "whoami after logout");
    diagnoseCalls(t, mock.calls);
});

// presenceThroughApp serves a mock with the serve flags given, has alice and
// bob share a room, starts bob's client and, once it is PREPARED, has alice
// set her presence. It resolves to the User bob's app got the presence event
// for, and how long after she set it; user is null when nothing came within
// presenceDeadlineMs.
async function presenceThroughApp(t, serveArgs = []) {
    const mock = await startMock({ args: serveArgs });
    t.after(() => mock.stop());
    const alice = await newUser(mock.baseUrl, "alice");
    const bob = await newUser(mock.baseUrl, "bob");
    t.after(() => bob.stopClient());

    const { room_id: roomId } = await alice.createRoom({ name: "interop", invite: [bob.getUserId()] });
    await bob.joinRoom(roomId);
    await startAndWaitPrepared(bob, mock);

    // A status message unique to this change: the event carrying it cannot
    // be a leftover from the initial sync.
    const status = "testing the js-sdk";
    const aliceId = alice.getUserId();
    const received = new Promise((resolve) => {
        bob.on(UserEvent.Presence, (event, user) => {
            if (user?.userId === aliceId && user.presenceStatusMsg === status) resolve(user);
        });
    });
    const setAt = performance.now();
    await alice.setPresence({ presence: "online", status_msg: status });
    let timer;
    const quiet = new Promise((resolve) => {
        timer = setTimeout(() => resolve(null), presenceDeadlineMs);
    });
    try {
        const user = await Promise.race([received, quiet]);
        return { user, afterMs: performance.now() - setAt, mock };
    } finally {
        clearTimeout(timer);
    }
}
