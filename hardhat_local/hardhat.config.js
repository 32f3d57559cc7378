// Hardhat 2 configuration of the local chain. Two modes, chosen by EREG_CHAIN_MODE:
//   dev  (default): current hardfork with EIP-1559 fees, chain id 1337;
//   besu: stands in for a Hyperledger Besu QBFT network with free gas: Berlin hardfork (no base
//         fee), gas price 0, chain id 2018.
// Either way the node holds no keys: clients sign locally and send raw transactions.
'use strict';

const mode = process.env.EREG_CHAIN_MODE || 'dev';
if (!['dev', 'besu'].includes(mode)) {
  throw new Error(`EREG_CHAIN_MODE must be dev or besu, not ${mode}`);
}
const besu = mode === 'besu';

const network = {
  chainId: Number(process.env.EREG_CHAIN_ID || (besu ? 2018 : 1337)),
  hardfork: besu ? 'berlin' : 'cancun',
  accounts: { count: 0 },
  blockGasLimit: 60_000_000,
  allowUnlimitedContractSize: false,
  mining: { auto: true, interval: 0 },
  loggingEnabled: false,
};
if (besu) {
  network.gasPrice = 0;
} else {
  network.initialBaseFeePerGas = 1_000_000_000;
}

// Contracts are compiled by scripts/compile_contracts.py (committed artifacts), not by Hardhat.
module.exports = {
  networks: { hardhat: network },
};
