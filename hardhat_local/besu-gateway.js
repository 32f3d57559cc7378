#!/usr/bin/env node
// A JSON-RPC gateway that makes a Hardhat node answer like a Hyperledger Besu QBFT node on the
// points where clients break when they move from Hardhat to Besu:
//   - eth_gasPrice is 0 (free-gas network; the node is in Berlin mode, so no base fee);
//   - eth_getLogs refuses a block range wider than --max-logs-range (Besu's cap) with -32005;
//   - block headers carry QBFT-sized extraData (longer than 32 bytes);
//   - with --allowlist, raw transactions from other senders are refused with -32007, as Besu's
//     account permissioning does.
// It starts the Hardhat node itself (Berlin mode, on an internal port) as its child, and stops
// it when it is stopped, so the local stack manages one process group.
'use strict';

const http = require('http');
const path = require('path');
const { spawn } = require('child_process');
const { Transaction } = require('micro-eth-signer');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const host = option('host', '127.0.0.1');
const port = Number(option('port', '8545'));
const innerPort = Number(option('inner-port', String(port + 1)));
const maxLogsRange = Number(option('max-logs-range', '1000'));
const allowlist = (option('allowlist', '') || '')
  .split(',')
  .map((a) => a.trim().toLowerCase())
  .filter(Boolean);
// 32 vanity bytes, an empty validator list, no vote, round 0, no seals: RLP of a QBFT header extra.
const QBFT_EXTRA = '0xf865a0' + '00'.repeat(32) + 'c0' + 'c0' + '80' + 'f842' + 'b840' + '00'.repeat(64);

const hardhatBin = path.join(__dirname, 'node_modules', '.bin', 'hardhat');
const child = spawn(process.execPath, [hardhatBin, 'node', '--hostname', '127.0.0.1', '--port', String(innerPort)], {
  cwd: __dirname,
  env: { ...process.env, EREG_CHAIN_MODE: 'besu' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
child.on('exit', (code) => {
  process.stderr.write(`hardhat node exited (${code})\n`);
  process.exit(1);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
    process.exit(0);
  });
}

function forward(body) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(
      { host: '127.0.0.1', port: innerPort, method: 'POST', path: '/', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function error(id, code, message) {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

async function blockNumberOf(tag) {
  if (tag === undefined || tag === 'latest' || tag === 'pending' || tag === 'safe' || tag === 'finalized') {
    const reply = await forward({ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber', params: [] });
    return Number(reply.result);
  }
  if (tag === 'earliest') return 0;
  return Number(tag);
}

function withQbftExtra(block) {
  if (block && typeof block === 'object' && typeof block.extraData === 'string') block.extraData = QBFT_EXTRA;
  return block;
}

async function handle(request) {
  const { id, method, params = [] } = request;
  if (method === 'eth_gasPrice') return { jsonrpc: '2.0', id, result: '0x0' };
  if (method === 'eth_getLogs') {
    const filter = params[0] || {};
    if (!filter.blockHash) {
      const from = await blockNumberOf(filter.fromBlock);
      const to = await blockNumberOf(filter.toBlock);
      if (to - from + 1 > maxLogsRange) {
        return error(id, -32005, `Requested range exceeds maximum RPC range limit (${maxLogsRange})`);
      }
    }
  }
  if (method === 'eth_sendRawTransaction' && allowlist.length > 0) {
    let sender = '';
    try {
      sender = Transaction.fromHex(params[0]).sender.toLowerCase();
    } catch (err) {
      return error(id, -32602, `Invalid params: ${err.message}`);
    }
    if (!allowlist.includes(sender)) {
      return error(id, -32007, 'Sender account not authorized to send transactions');
    }
  }
  const reply = await forward(request);
  if ((method === 'eth_getBlockByNumber' || method === 'eth_getBlockByHash') && reply.result) {
    withQbftExtra(reply.result);
  }
  return reply;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(error(null, -32700, 'Parse error')));
      return;
    }
    try {
      const reply = Array.isArray(body) ? await Promise.all(body.map(handle)) : await handle(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    } catch (err) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify(error(body && body.id, -32603, `gateway: ${err.message}`)));
    }
  });
});
server.keepAliveTimeout = 30000;
server.listen(port, host, () => process.stdout.write(`Besu-like gateway on http://${host}:${port} -> hardhat :${innerPort}\n`));
