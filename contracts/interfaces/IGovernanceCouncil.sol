// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Proposal} from "../Common.sol";

/// @title The governance council: M of N members decide every governance action
/// @notice Members approve a proposal by an EIP-712 signature (collected offline, submitted by
/// anyone) or on chain ({approve}). A proposal of kind Immediate runs at once as the council,
/// which holds only the registry's GUARDIAN_ROLE: protective actions alone succeed that way. A
/// proposal of kind Scheduled goes to the council's time lock (OpenZeppelin TimelockController,
/// which holds GOVERNOR_ROLE and the admin role), and anyone may execute it once the delay has
/// passed. During the delay, `vetoThreshold` members can cancel it. The council's own membership
/// changes only through its time lock.
interface IGovernanceCouncil {
    /// @notice The caller is not a member.
    error GovernanceCouncilNotMember(address account);
    /// @notice Only the council's time lock may change the council.
    error GovernanceCouncilOnlyTimelock(address caller);
    /// @notice Fewer distinct members approved than needed.
    error GovernanceCouncilInsufficientApprovals(bytes32 digest, uint256 approvals, uint256 needed);
    /// @notice A signature is malformed, or its signer is no member.
    error GovernanceCouncilInvalidSignature(uint256 index);
    /// @notice The same member signed twice.
    error GovernanceCouncilDuplicateSigner(address signer);
    /// @notice The approvals expired at `deadline`.
    error GovernanceCouncilExpired(uint64 deadline);
    /// @notice The proposal's nonce was used (it was carried out, or replaced).
    error GovernanceCouncilNonceUsed(uint256 nonce);
    /// @notice The proposal was vetoed.
    error GovernanceCouncilVetoed(bytes32 proposal);
    /// @notice A proposal needs at least one call, and at most MAX_CALLS.
    error GovernanceCouncilInvalidCalls(uint256 count);
    /// @notice Members, threshold and veto threshold must satisfy 1 <= veto <= threshold <= members
    /// <= MAX_MEMBERS, distinct non-zero members, and a threshold of 2 or more and a non-zero delay
    /// unless the council is a development council.
    error GovernanceCouncilInvalidConfiguration(uint256 members, uint256 threshold, uint256 vetoThreshold);
    /// @notice The proposal is not waiting in the time lock (or, for a veto, is not a Scheduled one).
    error GovernanceCouncilNotScheduled(bytes32 proposal);

    /// @notice Emitted when a member approves `digest` (a proposal or a veto) on chain.
    event Approved(bytes32 indexed digest, address indexed member);
    /// @notice Emitted when a member withdraws an on-chain approval.
    event ApprovalRevoked(bytes32 indexed digest, address indexed member);
    /// @notice Emitted when an Immediate proposal ran.
    event ProposalExecuted(bytes32 indexed proposal, uint256 nonce, address[] approvers);
    /// @notice Emitted when a Scheduled proposal entered the time lock, executable from `readyAt`.
    event ProposalScheduled(bytes32 indexed proposal, bytes32 operation, uint256 nonce, uint256 readyAt, address[] approvers);
    /// @notice Emitted when a proposal was vetoed (and cancelled in the time lock if it was there).
    event ProposalVetoed(bytes32 indexed proposal, address[] approvers);
    /// @notice Emitted when the council's membership or thresholds change.
    event CouncilChanged(address[] members, uint8 threshold, uint8 vetoThreshold);

    /// @notice Approves `digest` ({proposalDigest} or {vetoDigest}) as the calling member.
    function approve(bytes32 digest) external;

    /// @notice Withdraws the calling member's on-chain approval of `digest`.
    function revokeApproval(bytes32 digest) external;

    /// @notice Carries out `proposal`: an Immediate one runs now, a Scheduled one enters the time lock.
    /// @param signatures EIP-712 signatures of members over {proposalDigest}; on-chain approvals
    /// of current members count as well.
    /// Requirements: `threshold` distinct current members approved; deadline not passed; nonce
    /// unused; not vetoed; every call succeeds (Immediate).
    /// Emits {ProposalExecuted} or {ProposalScheduled}.
    function execute(Proposal calldata proposal, bytes[] calldata signatures) external returns (bytes32 digest);

    /// @notice Runs a Scheduled proposal once its delay has passed; anyone may call it.
    /// Emits the time lock's CallExecuted for each call.
    function executeScheduled(Proposal calldata proposal) external;

    /// @notice Vetoes a Scheduled `proposal`: it can no longer be carried out, and if it waits in
    /// the time lock it is cancelled there. Immediate (protective) proposals cannot be vetoed.
    /// @param signatures EIP-712 signatures of members over {vetoDigest}; on-chain approvals count.
    /// Requirements: `vetoThreshold` distinct current members approved; deadline not passed.
    /// Emits {ProposalVetoed}.
    function veto(Proposal calldata proposal, uint64 deadline, bytes[] calldata signatures) external;

    /// @notice Replaces the council's members and thresholds. Only through the time lock.
    /// Emits {CouncilChanged}.
    function setCouncil(address[] calldata members, uint8 threshold, uint8 vetoThreshold) external;

    /// @notice EIP-712 digest members sign to approve `proposal`; also its id.
    function proposalDigest(Proposal calldata proposal) external view returns (bytes32);

    /// @notice EIP-712 digest members sign to veto proposal digest `proposal` until `deadline`.
    function vetoDigest(bytes32 proposal, uint64 deadline) external view returns (bytes32);

    /// @notice The time lock's operation id of a Scheduled proposal.
    function operationId(Proposal calldata proposal) external view returns (bytes32);

    /// @notice The current members.
    function members() external view returns (address[] memory);

    /// @notice Whether `account` is a current member.
    function isMember(address account) external view returns (bool);

    /// @notice Approvals a proposal needs.
    function threshold() external view returns (uint8);

    /// @notice Approvals a veto needs.
    function vetoThreshold() external view returns (uint8);

    /// @notice The time lock (OpenZeppelin TimelockController) this council proposes to.
    function timelock() external view returns (address);

    /// @notice Whether this is a development council (one member, or no delay, allowed).
    function development() external view returns (bool);

    /// @notice Whether `member` approved `digest` on chain.
    function hasApproved(bytes32 digest, address member) external view returns (bool);

    /// @notice Whether proposal `nonce` was used.
    function isNonceUsed(uint256 nonce) external view returns (bool);

    /// @notice Whether `proposal` (a digest) was vetoed.
    function isVetoed(bytes32 proposal) external view returns (bool);
}
