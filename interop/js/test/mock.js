// Starts `mxpresence serve` on a loopback port and records the requests it
// logs, so a test can say which calls the SDK made and which failed.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const repoRoot = resolve(import.meta.dirname, "../../..");

let builtBinary;

// Every serve process still running. They are killed when this process
// ends, however it ends, so that a test run cut short leaves no server
// behind holding a port.
const running = new Set();
process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => process.exit(128 + (signal === "SIGINT" ? 2 : 15)));
}

// binary is the serve binary: $MXPRESENCE_BIN when CI built it already,
// else one built from this working tree once per test process.
function binary() {
    if (process.env.MXPRESENCE_BIN) return process.env.MXPRESENCE_BIN;
    if (!builtBinary) {
        const dir = mkdtempSync(join(tmpdir(), "mxpresence-interop-"));
        process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
        builtBinary = join(dir, "mxpresence");
        execFileSync("go", ["build", "-o", builtBinary, "./cmd/mxpresence"], {
            cwd: repoRoot,
            stdio: ["ignore", "inherit", "inherit"],
            timeout: 300_000,
        });
    }
    return builtBinary;
}

// slog's text handler writes one line per request:
//   time=... level=INFO msg=request method=GET path=/_matrix/... status=200 duration=...
// A value with a space or quote in it is quoted.
const requestLine = /\bmsg=request method=(\S+) path=("(?:[^"\\]|\\.)*"|\S+) status=(\d+)/;

/**
 * startMock serves a fresh mock, with extra serve flags in args, and resolves to
 * { baseUrl, stdout (its lines until it listened), calls, failed(), stop() }.
 * calls is every request served, in order: { method, path, status }.
 */
export async function startMock({ startTimeoutMs = 30_000, args = [] } = {}) {
    const child = spawn(binary(), ["serve", "--addr", "127.0.0.1:0", ...args], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    child.once("exit", () => running.delete(child));
    const calls = [];
    createInterface({ input: child.stderr }).on("line", (line) => {
        const m = requestLine.exec(line);
        if (!m) return;
        const path = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
        calls.push({ method: m[1], path, status: Number(m[3]) });
    });
    const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
    const stdout = [];
    const baseUrl = await new Promise((resolveUrl, reject) => {
        const timer = setTimeout(() => reject(new Error(`mxpresence serve did not listen within ${startTimeoutMs} ms`)), startTimeoutMs);
        createInterface({ input: child.stdout }).on("line", (line) => {
            stdout.push(line);
            const m = /^listening on (http:\/\/\S+)$/.exec(line);
            if (m) {
                clearTimeout(timer);
                resolveUrl(m[1]);
            }
        });
        exited.then((code) => {
            clearTimeout(timer);
            reject(new Error(`mxpresence serve exited with ${code} before listening`));
        });
    });
    return {
        baseUrl,
        stdout,
        calls,
        failed: () => calls.filter((c) => c.status >= 400),
        async stop() {
            if (child.exitCode === null) child.kill("SIGTERM");
            await exited;
        },
    };
}

/**
 * listVariations names the mock's legitimate variations, read from
 * `mxpresence serve --list-faults`: the lines after the "Variations" heading
 * that start with two spaces and a name.
 */
export function listVariations() {
    const out = execFileSync(binary(), ["serve", "--list-faults"], { encoding: "utf8", timeout: 30_000 });
    const [, variations = ""] = out.split(/^Variations\b.*$/m);
    return [...variations.matchAll(/^ {2}(\S+) {2,}/gm)].map((m) => m[1]);
}

/** describeCalls lists requests one a line, for failure messages and logs. */
export function describeCalls(calls) {
    return calls.map((c) => `  ${c.status} ${c.method} ${c.path}`).join("\n");
}
