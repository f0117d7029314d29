'use strict';
// Conformance scenario: drives the official @hyperledger/fabric-gateway client against a devnet running
// the kv test chaincode, and prints what it observed as one JSON object. The pytest side asserts on it,
// so this script only records facts (it never decides pass/fail itself).
//
// Usage: node scenario.js '<json config>'
//   config: {peer, mspId, certPath, keyPath, channel, chaincode, prefix}

const crypto = require('node:crypto');
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');
const { connect, checkpointers, hash, signers, GatewayError, EndorseError, CommitError } = require('@hyperledger/fabric-gateway');

const utf8 = new TextDecoder();
const encode = (s) => Buffer.from(s, 'utf8');

function describeError(err) {
    return {
        name: err.constructor ? err.constructor.name : typeof err,
        isGatewayError: err instanceof GatewayError,
        isEndorseError: err instanceof EndorseError,
        isCommitError: err instanceof CommitError,
        code: err.code,
        message: err.message,
        transactionId: err.transactionId,
        details: (err.details || []).map((d) => ({ address: d.address, mspId: d.mspId, message: d.message })),
    };
}

async function capture(fn) {
    try {
        return { ok: true, value: await fn() };
    } catch (err) {
        return { ok: false, error: describeError(err) };
    }
}

// Read up to `count` events, giving up after `ms` (a stream never ends by itself).
async function takeEvents(events, count, ms) {
    const out = [];
    const iterator = events[Symbol.asyncIterator]();
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); });
    try {
        while (out.length < count) {
            const pending = iterator.next();
            pending.catch(() => undefined); // closing the stream rejects a read left pending
            const next = await Promise.race([pending, timeout]);
            if (next === 'timeout' || next.done) break;
            const ev = next.value;
            out.push({
                blockNumber: Number(ev.blockNumber),
                transactionId: ev.transactionId,
                chaincodeName: ev.chaincodeName,
                eventName: ev.eventName,
                payload: utf8.decode(ev.payload),
            });
        }
    } finally {
        clearTimeout(timer);
        events.close();
    }
    return out;
}

async function statusOf(submitted) {
    const s = await submitted.getStatus();
    return { code: s.code, successful: s.successful, blockNumber: Number(s.blockNumber), transactionId: s.transactionId };
}

async function main() {
    const cfg = JSON.parse(process.argv[2]);
    const client = new grpc.Client(cfg.peer, grpc.credentials.createInsecure());
    const gateway = connect({
        client,
        identity: { mspId: cfg.mspId, credentials: fs.readFileSync(cfg.certPath) },
        signer: signers.newPrivateKeySigner(crypto.createPrivateKey(fs.readFileSync(cfg.keyPath))),
        hash: hash.sha256,
        evaluateOptions: () => ({ deadline: Date.now() + 10000 }),
        endorseOptions: () => ({ deadline: Date.now() + 30000 }),
        submitOptions: () => ({ deadline: Date.now() + 10000 }),
        commitStatusOptions: () => ({ deadline: Date.now() + 30000 }),
    });
    const out = {};
    const p = cfg.prefix;
    try {
        const network = gateway.getNetwork(cfg.channel);
        const contract = network.getContract(cfg.chaincode);

        // Evaluate, submit, commit status.
        out.evaluateMissing = await capture(async () => utf8.decode(await contract.evaluateTransaction('Get', `${p}k1`)));
        out.submit = await capture(async () => {
            const submitted = await contract.submitAsync('PutThenGet', { arguments: [`${p}k1`, 'v1'] });
            const status = await statusOf(submitted);
            const again = await statusOf(submitted); // CommitStatus is idempotent
            return { result: utf8.decode(submitted.getResult()), transactionId: submitted.getTransactionId(), status, again };
        });
        out.evaluateAfterSubmit = await capture(async () => utf8.decode(await contract.evaluateTransaction('Get', `${p}k1`)));

        // Endorse only: nothing is committed.
        out.endorseOnly = await capture(async () => {
            const tx = await contract.newProposal('Put', { arguments: [`${p}k2`, 'never'] }).endorse();
            return { transactionId: tx.getTransactionId(), value: utf8.decode(await contract.evaluateTransaction('Get', `${p}k2`)) };
        });

        // Two conflicting transfers from one account, endorsed before either commits.
        out.mvcc = await capture(async () => {
            await contract.submitTransaction('SetBalance', `${p}acct`, '100');
            const a = await contract.newProposal('Transfer', { arguments: [`${p}acct`, `${p}x`, '60'] }).endorse();
            const b = await contract.newProposal('Transfer', { arguments: [`${p}acct`, `${p}y`, '60'] }).endorse();
            const [sa, sb] = await Promise.all([a.submit(), b.submit()]);
            const statuses = [await statusOf(sa), await statusOf(sb)];
            const balance = utf8.decode(await contract.evaluateTransaction('Balance', `${p}acct`));
            return { statuses, balance };
        });

        // Error shapes: chaincode rejection on endorse and on evaluate; unknown channel.
        out.endorseError = await capture(() => contract.submitTransaction('Fail', '500', 'boom from chaincode'));
        out.overdraftError = await capture(() => contract.submitTransaction('Transfer', `${p}acct`, `${p}z`, '1000000'));
        out.evaluateError = await capture(() => contract.evaluateTransaction('Fail', '404', 'nothing here'));
        out.unknownChannel = await capture(() => gateway.getNetwork('nosuchchannel').getContract(cfg.chaincode).evaluateTransaction('Get', 'k'));

        // Chaincode events: several in order, then a checkpoint resume after the first.
        out.events = await capture(async () => {
            const txs = [];
            for (let i = 0; i < 3; i++) {
                const submitted = await contract.submitAsync('EmitEvent', { arguments: [`${p}ev`, `payload-${i}`] });
                txs.push({ transactionId: submitted.getTransactionId(), status: await statusOf(submitted) });
            }
            const startBlock = BigInt(txs[0].status.blockNumber);
            const all = await takeEvents(await network.getChaincodeEvents(cfg.chaincode, { startBlock }), 3, 10000);
            const checkpointer = checkpointers.inMemory();
            await checkpointer.checkpointTransaction(BigInt(txs[0].status.blockNumber), txs[0].transactionId);
            const resumed = await takeEvents(await network.getChaincodeEvents(cfg.chaincode, { checkpoint: checkpointer }), 2, 10000);
            // Nothing must follow the last event until a new transaction commits.
            const lastCp = checkpointers.inMemory();
            await lastCp.checkpointTransaction(BigInt(txs[2].status.blockNumber), txs[2].transactionId);
            const afterLast = await takeEvents(await network.getChaincodeEvents(cfg.chaincode, { checkpoint: lastCp }), 1, 1500);
            return { txs, all, resumed, afterLast };
        });
    } finally {
        gateway.close();
        client.close();
    }
    process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
    process.stderr.write(`scenario crashed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
});
