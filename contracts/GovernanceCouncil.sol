// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {Call, Proposal, ProposalKind} from "./Common.sol";
import {IGovernanceCouncil} from "./interfaces/IGovernanceCouncil.sol";

/// @title e-Registry governance council
/// @notice M-of-N members (for example 3 of 5 bureau heads) decide every governance action. The
/// council deploys its own OpenZeppelin TimelockController, of which it is the only proposer and
/// canceller; execution after the delay is open to anyone. The registry gives GOVERNOR_ROLE and its
/// admin role to the time lock, and GUARDIAN_ROLE (protective actions, at once) to the council.
contract GovernanceCouncil is EIP712, IGovernanceCouncil {
    using EnumerableSet for EnumerableSet.AddressSet;

    bytes32 public constant CALL_TYPEHASH = keccak256("Call(address target,bytes data)");
    bytes32 public constant PROPOSAL_TYPEHASH = keccak256(
        "Proposal(uint8 kind,Call[] calls,uint256 nonce,uint64 deadline)Call(address target,bytes data)"
    );
    bytes32 public constant VETO_TYPEHASH = keccak256("Veto(bytes32 proposal,uint64 deadline)");
    /// @notice Members of a council; bounds the work of counting approvals.
    uint256 public constant MAX_MEMBERS = 16;
    /// @notice Calls in one proposal.
    uint256 public constant MAX_CALLS = 64;

    TimelockController private immutable _timelock;
    bool private immutable _development;

    EnumerableSet.AddressSet private _members;
    uint8 private _threshold;
    uint8 private _vetoThreshold;
    mapping(bytes32 digest => mapping(address member => bool)) private _approvals;
    mapping(uint256 word => uint256 bits) private _nonces;
    mapping(bytes32 proposal => bool) private _vetoed;

    /// @param members_ the first members
    /// @param threshold_ approvals a proposal needs (M)
    /// @param vetoThreshold_ approvals a veto needs
    /// @param delay the time lock's delay in seconds for actions that add power
    /// @param development_ allow a single member or no delay (a local development chain only)
    constructor(
        address[] memory members_,
        uint8 threshold_,
        uint8 vetoThreshold_,
        uint256 delay,
        bool development_
    ) EIP712("e-Registry GovernanceCouncil", "1") {
        if (!development_ && delay == 0) {
            revert GovernanceCouncilInvalidConfiguration(members_.length, threshold_, vetoThreshold_);
        }
        _development = development_;
        _setCouncil(members_, threshold_, vetoThreshold_);
        address[] memory proposers = new address[](1);
        proposers[0] = address(this);
        address[] memory executors = new address[](1); // address(0): anyone may execute
        _timelock = new TimelockController(delay, proposers, executors, address(0));
    }

    // -------------------------------------------------------------------------------- approvals

    /// @inheritdoc IGovernanceCouncil
    function approve(bytes32 digest) external {
        if (!_members.contains(msg.sender)) revert GovernanceCouncilNotMember(msg.sender);
        _approvals[digest][msg.sender] = true;
        emit Approved(digest, msg.sender);
    }

    /// @inheritdoc IGovernanceCouncil
    function revokeApproval(bytes32 digest) external {
        if (!_approvals[digest][msg.sender]) revert GovernanceCouncilNotMember(msg.sender);
        delete _approvals[digest][msg.sender];
        emit ApprovalRevoked(digest, msg.sender);
    }

    // -------------------------------------------------------------------------------- proposals

    /// @inheritdoc IGovernanceCouncil
    function execute(Proposal calldata proposal, bytes[] calldata signatures) external returns (bytes32 digest) {
        uint256 count = proposal.calls.length;
        if (count == 0 || count > MAX_CALLS) revert GovernanceCouncilInvalidCalls(count);
        if (block.timestamp > proposal.deadline) revert GovernanceCouncilExpired(proposal.deadline);
        digest = proposalDigest(proposal);
        if (_vetoed[digest]) revert GovernanceCouncilVetoed(digest);
        address[] memory approvers = _approvers(digest, signatures, _threshold);
        _useNonce(proposal.nonce);
        if (proposal.kind == ProposalKind.Immediate) {
            for (uint256 i = 0; i < count; ++i) {
                Address.functionCall(proposal.calls[i].target, proposal.calls[i].data);
            }
            emit ProposalExecuted(digest, proposal.nonce, approvers);
        } else {
            (address[] memory targets, uint256[] memory values, bytes[] memory payloads) = _unpack(proposal.calls);
            uint256 delay = _timelock.getMinDelay();
            _timelock.scheduleBatch(targets, values, payloads, bytes32(0), digest, delay);
            bytes32 operation = _timelock.hashOperationBatch(targets, values, payloads, bytes32(0), digest);
            emit ProposalScheduled(digest, operation, proposal.nonce, block.timestamp + delay, approvers);
        }
    }

    /// @inheritdoc IGovernanceCouncil
    function executeScheduled(Proposal calldata proposal) external {
        bytes32 digest = proposalDigest(proposal);
        (address[] memory targets, uint256[] memory values, bytes[] memory payloads) = _unpack(proposal.calls);
        bytes32 operation = _timelock.hashOperationBatch(targets, values, payloads, bytes32(0), digest);
        if (!_timelock.isOperationPending(operation)) revert GovernanceCouncilNotScheduled(digest);
        _timelock.executeBatch(targets, values, payloads, bytes32(0), digest);
    }

    /// @inheritdoc IGovernanceCouncil
    function veto(Proposal calldata proposal, uint64 deadline, bytes[] calldata signatures) external {
        // Protective actions are not vetoable: a minority must not be able to keep a stolen key live.
        if (proposal.kind != ProposalKind.Scheduled) revert GovernanceCouncilNotScheduled(bytes32(0));
        if (block.timestamp > deadline) revert GovernanceCouncilExpired(deadline);
        bytes32 digest = proposalDigest(proposal);
        address[] memory approvers = _approvers(vetoDigest(digest, deadline), signatures, _vetoThreshold);
        _vetoed[digest] = true;
        (address[] memory targets, uint256[] memory values, bytes[] memory payloads) = _unpack(proposal.calls);
        bytes32 operation = _timelock.hashOperationBatch(targets, values, payloads, bytes32(0), digest);
        if (_timelock.isOperationPending(operation)) _timelock.cancel(operation);
        emit ProposalVetoed(digest, approvers);
    }

    /// @inheritdoc IGovernanceCouncil
    function setCouncil(address[] calldata members_, uint8 threshold_, uint8 vetoThreshold_) external {
        if (msg.sender != address(_timelock)) revert GovernanceCouncilOnlyTimelock(msg.sender);
        _setCouncil(members_, threshold_, vetoThreshold_);
    }

    // ----------------------------------------------------------------------------------- views

    /// @inheritdoc IGovernanceCouncil
    function proposalDigest(Proposal calldata proposal) public view returns (bytes32) {
        uint256 count = proposal.calls.length;
        bytes32[] memory hashes = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            hashes[i] = keccak256(
                abi.encode(CALL_TYPEHASH, proposal.calls[i].target, keccak256(proposal.calls[i].data))
            );
        }
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    PROPOSAL_TYPEHASH,
                    proposal.kind,
                    keccak256(abi.encodePacked(hashes)),
                    proposal.nonce,
                    proposal.deadline
                )
            )
        );
    }

    /// @inheritdoc IGovernanceCouncil
    function vetoDigest(bytes32 proposal, uint64 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VETO_TYPEHASH, proposal, deadline)));
    }

    /// @inheritdoc IGovernanceCouncil
    function operationId(Proposal calldata proposal) external view returns (bytes32) {
        (address[] memory targets, uint256[] memory values, bytes[] memory payloads) = _unpack(proposal.calls);
        return _timelock.hashOperationBatch(targets, values, payloads, bytes32(0), proposalDigest(proposal));
    }

    /// @inheritdoc IGovernanceCouncil
    function members() external view returns (address[] memory) {
        return _members.values();
    }

    /// @inheritdoc IGovernanceCouncil
    function isMember(address account) external view returns (bool) {
        return _members.contains(account);
    }

    /// @inheritdoc IGovernanceCouncil
    function threshold() external view returns (uint8) {
        return _threshold;
    }

    /// @inheritdoc IGovernanceCouncil
    function vetoThreshold() external view returns (uint8) {
        return _vetoThreshold;
    }

    /// @inheritdoc IGovernanceCouncil
    function timelock() external view returns (address) {
        return address(_timelock);
    }

    /// @inheritdoc IGovernanceCouncil
    function development() external view returns (bool) {
        return _development;
    }

    /// @inheritdoc IGovernanceCouncil
    function hasApproved(bytes32 digest, address member) external view returns (bool) {
        return _approvals[digest][member];
    }

    /// @inheritdoc IGovernanceCouncil
    function isNonceUsed(uint256 nonce) external view returns (bool) {
        return _nonces[nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IGovernanceCouncil
    function isVetoed(bytes32 proposal) external view returns (bool) {
        return _vetoed[proposal];
    }

    // -------------------------------------------------------------------------------- internal

    /// @dev The distinct current members who approved `digest`, by signature or on chain; at least `needed`.
    function _approvers(bytes32 digest, bytes[] calldata signatures, uint256 needed)
        private
        view
        returns (address[] memory approvers)
    {
        uint256 size = _members.length();
        if (signatures.length > size) revert GovernanceCouncilInvalidSignature(size);
        approvers = new address[](size);
        uint256 count = 0;
        for (uint256 i = 0; i < signatures.length; ++i) {
            (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signatures[i]);
            if (error != ECDSA.RecoverError.NoError || !_members.contains(signer)) {
                revert GovernanceCouncilInvalidSignature(i);
            }
            for (uint256 j = 0; j < count; ++j) {
                if (approvers[j] == signer) revert GovernanceCouncilDuplicateSigner(signer);
            }
            approvers[count++] = signer;
        }
        for (uint256 m = 0; m < size; ++m) {
            address member = _members.at(m);
            if (!_approvals[digest][member]) continue;
            bool counted = false;
            for (uint256 j = 0; j < count; ++j) {
                if (approvers[j] == member) counted = true;
            }
            if (!counted) approvers[count++] = member;
        }
        if (count < needed) revert GovernanceCouncilInsufficientApprovals(digest, count, needed);
        assembly ("memory-safe") {
            mstore(approvers, count) // shrink to the approvers found
        }
    }

    function _setCouncil(address[] memory members_, uint8 threshold_, uint8 vetoThreshold_) private {
        uint256 size = members_.length;
        if (
            size == 0 || size > MAX_MEMBERS || threshold_ == 0 || threshold_ > size || vetoThreshold_ == 0
                || vetoThreshold_ > threshold_ || (!_development && threshold_ < 2)
        ) {
            revert GovernanceCouncilInvalidConfiguration(size, threshold_, vetoThreshold_);
        }
        address[] memory old = _members.values();
        for (uint256 i = 0; i < old.length; ++i) {
            _members.remove(old[i]);
        }
        for (uint256 i = 0; i < size; ++i) {
            if (members_[i] == address(0) || !_members.add(members_[i])) {
                revert GovernanceCouncilInvalidConfiguration(size, threshold_, vetoThreshold_);
            }
        }
        _threshold = threshold_;
        _vetoThreshold = vetoThreshold_;
        emit CouncilChanged(members_, threshold_, vetoThreshold_);
    }

    function _useNonce(uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bits = _nonces[nonce >> 8];
        if (bits & bit != 0) revert GovernanceCouncilNonceUsed(nonce);
        _nonces[nonce >> 8] = bits | bit;
    }

    function _unpack(Call[] calldata calls)
        private
        pure
        returns (address[] memory targets, uint256[] memory values, bytes[] memory payloads)
    {
        uint256 count = calls.length;
        targets = new address[](count);
        values = new uint256[](count);
        payloads = new bytes[](count);
        for (uint256 i = 0; i < count; ++i) {
            targets[i] = calls[i].target;
            payloads[i] = calls[i].data;
        }
    }
}
