// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CaseKind, CaseState, Mortgage, Owner, Seizure, TransferCase, UnitState} from "../Common.sol";

/// @title Registry of property units: titles, transfers, mortgages and seizures
/// @notice A property unit (不动产单元) is keyed by a hash of its unit number, never the number
/// itself. Its title is the target hash of the current property certificate (不动产权证书),
/// anchored in the DocumentRegistry, and its co-owners as salted commitments with shares in
/// basis points summing to 10,000. Every action is taken by a department signing key (the
/// transaction's sender) inside its window, of an active department holding the role the action
/// needs (IIssuerRegistry roles): NATRES registers units and opens, resubmits and cancels transfer
/// cases; NATRES, TAX and HOUSING approve a case in any order, each for its own role, three
/// departments in all, and any of them may reject it or return it for correction; the last
/// approval finalizes it, superseding the old certificate by the new one in the DocumentRegistry;
/// NATRES opens a correction case (更正登记) that a second department (or the council) approves;
/// a BANK registers and releases its mortgages and consents to the transfer of a mortgaged unit;
/// a COURT registers and releases its seizures. A unit's current title and an active mortgage's
/// certificate are locked in the DocumentRegistry: they change only here. Every step emits an
/// event indexed by unit: together they are the chain of title.
///
/// Every action can also be relayed: the acting key signs the action's call (EIP-712, domain
/// "e-Registry PropertyRegistry" version 1, bound to the chain id and this contract) with an
/// unordered nonce and a deadline, and anyone submits it through {executeSigned}; the action
/// then runs exactly as if the key had sent it.
///
/// Reason codes of rejections, returns and cancellations are the registry's codes (see
/// docs/CONTRACTS.md); the chain never carries free text.
interface IPropertyRegistry {
    // --------------------------------------------------------------------------- authorization
    /// @notice `account` is not a registered department signing key.
    error PropertyRegistryUnknownKey(address account);
    /// @notice `signer` is outside its validity window at time `at`.
    error PropertyRegistryKeyNotValid(address signer, uint40 validFrom, uint40 validUntil, uint40 at);
    /// @notice `department` is registered but not active.
    error PropertyRegistryDepartmentInactive(bytes32 department);
    /// @notice `department` holds none of `roles` (or not all of them, for an approval).
    error PropertyRegistryUnauthorized(bytes32 department, uint8 roles);

    // ----------------------------------------------------------------------------------- units
    /// @notice The unit id is zero.
    error PropertyRegistryInvalidUnit();
    /// @notice `unitId` is already registered.
    error PropertyRegistryUnitExists(bytes32 unitId);
    /// @notice `unitId` was never registered.
    error PropertyRegistryUnknownUnit(bytes32 unitId);
    /// @notice No owners, or more than MAX_OWNERS.
    error PropertyRegistryInvalidOwnerCount(uint256 count);
    /// @notice Owner `index` has a zero commitment, a zero share, or repeats an earlier commitment.
    error PropertyRegistryInvalidOwner(uint256 index, bytes32 commitment);
    /// @notice The owners' shares sum to `total` basis points instead of 10,000.
    error PropertyRegistryInvalidShares(uint256 total);

    // ---------------------------------------------------------------------------- certificates
    /// @notice `proof` does not place keccak256(0x00 ‖ targetHash) under `root`.
    error PropertyRegistryInvalidCertificateProof(bytes32 root, bytes32 targetHash);
    /// @notice `root` is not anchored in the DocumentRegistry.
    error PropertyRegistryCertificateNotAnchored(bytes32 root, bytes32 targetHash);
    /// @notice The certificate is of type `docType`, not the one the action needs.
    error PropertyRegistryCertificateWrongType(bytes32 root, bytes32 targetHash, bytes32 docType);
    /// @notice The property certificate was anchored by `issuer`, not the acting department.
    error PropertyRegistryCertificateForeignIssuer(bytes32 root, bytes32 targetHash, bytes32 issuer);
    /// @notice The certificate (or its batch) is revoked, suspended or superseded.
    error PropertyRegistryCertificateNotActive(bytes32 root, bytes32 targetHash);
    /// @notice The new certificate of a case is the unit's current one.
    error PropertyRegistryCertificateUnchanged(bytes32 unitId, bytes32 targetHash);

    // ----------------------------------------------------------------------------------- cases
    /// @notice `unitId` already has case `caseId` open or returned.
    error PropertyRegistryCaseAlreadyOpen(bytes32 unitId, uint64 caseId);
    /// @notice `caseId` was never opened.
    error PropertyRegistryUnknownCase(uint64 caseId);
    /// @notice The action is not allowed while case `caseId` is in `state`.
    error PropertyRegistryInvalidCaseState(uint64 caseId, CaseState state);
    /// @notice The approval or consent names `round`; the case is in round `current`.
    error PropertyRegistryStaleRound(uint64 caseId, uint32 round, uint32 current);
    /// @notice `roles` is empty or has bits other than NATRES, TAX and HOUSING.
    error PropertyRegistryInvalidApprovalRoles(uint8 roles);
    /// @notice `department` already approved case `caseId` in this round.
    error PropertyRegistryAlreadyApproved(uint64 caseId, bytes32 department);
    /// @notice Another department already approved case `caseId` as `role` in this round.
    error PropertyRegistryRoleAlreadyApproved(uint64 caseId, uint8 role);

    // ------------------------------------------------------------------ mortgages and seizures
    /// @notice `unitId` has `active` seizures: no case opens, no mortgage registers, no transfer finalizes.
    error PropertyRegistryUnitSeized(bytes32 unitId, uint256 active);
    /// @notice Mortgage `mortgageId` of `bank` is active and the bank has not consented to this round of the case.
    error PropertyRegistryMortgageNotConsented(bytes32 unitId, uint32 mortgageId, bytes32 bank);
    /// @notice `unitId` has no mortgage `mortgageId`.
    error PropertyRegistryUnknownMortgage(bytes32 unitId, uint32 mortgageId);
    /// @notice Mortgage `mortgageId` is already released.
    error PropertyRegistryMortgageReleased(bytes32 unitId, uint32 mortgageId);
    /// @notice `department` is not the bank that registered mortgage `mortgageId`.
    error PropertyRegistryNotMortgagee(bytes32 unitId, uint32 mortgageId, bytes32 department);
    /// @notice The bank already consented to this round of case `caseId` for mortgage `mortgageId`.
    error PropertyRegistryAlreadyConsented(uint64 caseId, uint32 mortgageId);
    /// @notice `unitId` has no seizure `seizureId`.
    error PropertyRegistryUnknownSeizure(bytes32 unitId, uint32 seizureId);
    /// @notice Seizure `seizureId` is already released.
    error PropertyRegistrySeizureReleased(bytes32 unitId, uint32 seizureId);
    /// @notice `department` is not the court that registered seizure `seizureId`.
    error PropertyRegistryNotSeizingCourt(bytes32 unitId, uint32 seizureId, bytes32 department);
    /// @notice The ruling hash of a seizure is zero.
    error PropertyRegistryInvalidRuling();
    /// @notice `unitId` already has the maximum number of active mortgages or seizures.
    error PropertyRegistryTooManyEncumbrances(bytes32 unitId, uint256 max);

    // ---------------------------------------------------------------------------- signed actions
    /// @notice The signed action's deadline has passed.
    error PropertyRegistryExpiredSignature(uint64 deadline);
    /// @notice The signature is malformed or does not recover to an address.
    error PropertyRegistryInvalidSignature();
    /// @notice `signer` already used `nonce`.
    error PropertyRegistryNonceUsed(address signer, uint256 nonce);
    /// @notice The signed call is not one of this registry's actions.
    error PropertyRegistryActionNotAllowed(bytes4 selector);
    /// @notice Case `caseId` is of another kind than the step asks for.
    error PropertyRegistryWrongCaseKind(uint64 caseId, CaseKind kind);
    /// @notice The mortgage certificate was registered for a mortgage already (each is used once).
    error PropertyRegistryMortgageCertificateUsed(bytes32 root, bytes32 targetHash);
    /// @notice The certificate is already a unit's title or an active mortgage's certificate.
    error PropertyRegistryCertificateInUse(bytes32 root, bytes32 targetHash);

    // ---------------------------------------------------------------------------------- events
    /// @notice Emitted when a relayed action of `signer` runs; `digest` is the signed EIP-712 digest.
    event SignedActionExecuted(address indexed signer, uint256 indexed nonce, bytes32 digest);
    /// @notice Emitted when a unit is first registered with its certificate and owners.
    event UnitRegistered(
        bytes32 indexed unitId,
        bytes32 indexed certTarget,
        bytes32 indexed department,
        bytes32 certRoot,
        Owner[] owners
    );
    /// @notice Emitted when a transfer case is opened at the window.
    event TransferOpened(
        bytes32 indexed unitId,
        uint64 indexed caseId,
        bytes32 indexed department,
        bytes32 certRoot,
        bytes32 certTarget,
        Owner[] owners
    );
    /// @notice Emitted when `department` approves case `caseId` as `roles` (ROLE_* flags).
    event TransferApproved(
        bytes32 indexed unitId, uint64 indexed caseId, bytes32 indexed department, uint32 round, uint8 roles
    );
    /// @notice Emitted when a case is rejected; it is closed for good.
    event TransferRejected(bytes32 indexed unitId, uint64 indexed caseId, bytes32 indexed department, uint16 reason);
    /// @notice Emitted when a case is returned for correction; its approvals no longer count.
    event TransferReturned(bytes32 indexed unitId, uint64 indexed caseId, bytes32 indexed department, uint16 reason);
    /// @notice Emitted when a returned case is resubmitted, corrected, for round `round`.
    event TransferResubmitted(
        bytes32 indexed unitId,
        uint64 indexed caseId,
        bytes32 indexed department,
        uint32 round,
        bytes32 certRoot,
        bytes32 certTarget,
        Owner[] owners
    );
    /// @notice Emitted when a case is cancelled at the window.
    event TransferCancelled(bytes32 indexed unitId, uint64 indexed caseId, bytes32 indexed department, uint16 reason);
    /// @notice Emitted when the last approval transfers the unit: `certTarget` and the case's
    /// owners are current, `previousTarget` is superseded in the DocumentRegistry.
    event TransferFinalized(
        bytes32 indexed unitId,
        uint64 indexed caseId,
        bytes32 indexed certTarget,
        bytes32 certRoot,
        bytes32 previousRoot,
        bytes32 previousTarget,
        uint32 round
    );
    /// @notice Emitted when the mortgagee bank consents to the transfer of case `caseId` (this round).
    event TransferConsented(
        bytes32 indexed unitId, uint64 indexed caseId, bytes32 indexed bank, uint32 mortgageId, uint32 round
    );
    /// @notice Emitted when NATRES opens a correction case: `certTarget` (0: none) would replace
    /// (or, when 0, revoke) the unit's title, for `reason`.
    event CorrectionOpened(
        bytes32 indexed unitId,
        uint64 indexed caseId,
        bytes32 indexed department,
        bytes32 certRoot,
        bytes32 certTarget,
        Owner[] owners,
        uint16 reason
    );
    /// @notice Emitted when a second department (0: the council) approves a correction case.
    event CorrectionApproved(bytes32 indexed unitId, uint64 indexed caseId, bytes32 indexed department);
    /// @notice Emitted when a correction takes effect: `certTarget` (0: the title was revoked and
    /// the unit has none until registered again) replaces `previousTarget`.
    event TitleCorrected(
        bytes32 indexed unitId,
        uint64 indexed caseId,
        bytes32 indexed certTarget,
        bytes32 certRoot,
        bytes32 previousRoot,
        bytes32 previousTarget
    );
    /// @notice Emitted when a bank registers a mortgage.
    event MortgageRegistered(
        bytes32 indexed unitId, uint32 indexed mortgageId, bytes32 indexed bank, bytes32 certRoot, bytes32 certTarget
    );
    /// @notice Emitted when the bank releases its mortgage.
    event MortgageReleased(bytes32 indexed unitId, uint32 indexed mortgageId, bytes32 indexed bank);
    /// @notice Emitted when a court seizes a unit.
    event SeizureRegistered(bytes32 indexed unitId, uint32 indexed seizureId, bytes32 indexed court, bytes32 ruling);
    /// @notice Emitted when the court releases its seizure.
    event SeizureReleased(bytes32 indexed unitId, uint32 indexed seizureId, bytes32 indexed court);

    // ----------------------------------------------------------------------------------- units
    /// @notice Registers a unit for the first time with its property certificate and owners.
    /// @param unitId hash of the unit number (不动产单元号), never the number itself
    /// @param certRoot batch root under which the certificate was anchored
    /// @param certTarget target hash of the property certificate
    /// @param certProof Merkle proof of keccak256(0x00 ‖ certTarget) under `certRoot`
    /// @param owners co-owners' commitments and shares (basis points summing to 10,000)
    /// Requirements: sender is a current key of an active NATRES department; unit id not zero and
    /// not registered; the certificate anchored by that department, of type property-certificate,
    /// active; 1 to MAX_OWNERS owners with distinct non-zero commitments and non-zero shares.
    /// Emits {UnitRegistered}.
    function registerUnit(
        bytes32 unitId,
        bytes32 certRoot,
        bytes32 certTarget,
        bytes32[] calldata certProof,
        Owner[] calldata owners
    ) external;

    // ------------------------------------------------------------------------------- transfers
    /// @notice Opens a transfer case at the window, naming the new certificate and owners.
    /// Requirements: sender is a current NATRES key; unit registered, not seized, no case open or
    /// returned; the unit's current certificate still active; the new certificate as for
    /// {registerUnit} and not the current one; owners as for {registerUnit}.
    /// Emits {TransferOpened}.
    /// @return caseId the new case's id (global, from 1)
    function openTransfer(
        bytes32 unitId,
        bytes32 certRoot,
        bytes32 certTarget,
        bytes32[] calldata certProof,
        Owner[] calldata owners
    ) external returns (uint64 caseId);

    /// @notice Approves case `caseId` in round `round` as `roles`, a non-empty subset of
    /// NATRES | TAX | HOUSING (a department holding several roles may approve them together).
    /// The approval completing all three finalizes the case in the same transaction: the case's
    /// certificate and owners become current and the old certificate is superseded by the new
    /// one in the DocumentRegistry (reason 9, property transferred), as the department that
    /// anchored the old certificate.
    /// Requirements: sender is a current key of an active department holding every role in
    /// `roles`; case open, in round `round`; the department has not approved this round, nor has
    /// another department approved any of `roles`. For the completing approval: the unit is not
    /// seized, and each active mortgage's bank has consented to this round.
    /// Emits {TransferApproved}, and {TransferFinalized} with the DocumentRegistry's
    /// {IDocumentRegistry-DocumentSuperseded} when it completes the case.
    function approveTransfer(uint64 caseId, uint32 round, uint8 roles) external;

    /// @notice Rejects case `caseId` for good.
    /// Requirements: sender is a current key of an active NATRES, TAX or HOUSING department; case open or returned.
    /// Emits {TransferRejected}.
    function rejectTransfer(uint64 caseId, uint16 reason) external;

    /// @notice Returns case `caseId` for correction; its approvals and consents no longer count.
    /// Requirements: sender is a current key of an active NATRES, TAX or HOUSING department; case open.
    /// Emits {TransferReturned}.
    function returnTransfer(uint64 caseId, uint16 reason) external;

    /// @notice Resubmits returned case `caseId` with the corrected certificate and owners, opening
    /// a new round with no approvals and no consents.
    /// Requirements: sender is a current NATRES key; case returned; unit not seized; certificate and
    /// owners as for {openTransfer}.
    /// Emits {TransferResubmitted}.
    function resubmitTransfer(
        uint64 caseId,
        bytes32 certRoot,
        bytes32 certTarget,
        bytes32[] calldata certProof,
        Owner[] calldata owners
    ) external;

    /// @notice Cancels case `caseId` at the window.
    /// Requirements: sender is a current NATRES key; case open or returned.
    /// Emits {TransferCancelled}.
    function cancelTransfer(uint64 caseId, uint16 reason) external;

    /// @notice Records the mortgagee bank's consent to the transfer of case `caseId`, round `round`:
    /// mortgage `mortgageId` then does not block finalization (it stays registered).
    /// Requirements: sender is a current key of the bank that registered the mortgage (BANK role);
    /// mortgage active; case open for the same unit, in round `round`; not yet consented.
    /// Emits {TransferConsented}.
    function consentToTransfer(uint64 caseId, uint32 round, uint32 mortgageId) external;

    // ----------------------------------------------------------------------------- corrections
    /// @notice Opens a correction case (更正登记) on `unitId`: a new certificate and owners replace
    /// the title, or, with `certTarget` 0 and no owners, the title is revoked.
    /// Requirements: sender is a current NATRES key; unit registered with no open case; a new
    /// certificate as for {openTransfer}.
    /// Emits {CorrectionOpened}.
    /// @return caseId the case id (shared numbering with transfers)
    function openCorrection(
        bytes32 unitId,
        bytes32 certRoot,
        bytes32 certTarget,
        bytes32[] calldata certProof,
        Owner[] calldata owners,
        uint16 reason
    ) external returns (uint64 caseId);

    /// @notice Approves correction case `caseId`, which takes effect at once: the title is replaced
    /// (the old certificate superseded with reason 11) or revoked (reason 11).
    /// Requirements: sender is the council's time lock (GOVERNOR_ROLE of the DocumentRegistry), or a
    /// current key of a department holding NATRES, TAX, HOUSING or COURT other than the opener's;
    /// the case is an open correction; a seized unit only by the council.
    /// Emits {CorrectionApproved} and {TitleCorrected}.
    function approveCorrection(uint64 caseId) external;

    // ------------------------------------------------------------------ mortgages and seizures
    /// @notice Registers a mortgage of the sender's bank on `unitId`, evidenced by a mortgage certificate.
    /// Requirements: sender is a current BANK key; unit registered and not seized; the certificate
    /// anchored by the department that issued the unit's title, of type mortgage-certificate,
    /// active, never registered for a mortgage before; fewer than MAX_ENCUMBRANCES active mortgages.
    /// Emits {MortgageRegistered}.
    /// @return mortgageId the mortgage's id on the unit (from 1)
    function registerMortgage(bytes32 unitId, bytes32 certRoot, bytes32 certTarget, bytes32[] calldata certProof)
        external
        returns (uint32 mortgageId);

    /// @notice Releases mortgage `mortgageId` of `unitId`; its certificate is revoked (reason 10).
    /// Requirements: sender is a current BANK key of the bank that registered it; mortgage active.
    /// Emits {MortgageReleased}.
    function releaseMortgage(bytes32 unitId, uint32 mortgageId) external;

    /// @notice Seizes `unitId` by a ruling of the sender's court (`ruling` is its hash).
    /// Requirements: sender is a current COURT key; unit registered; ruling not zero; fewer than
    /// MAX_ENCUMBRANCES active seizures.
    /// Emits {SeizureRegistered}.
    /// @return seizureId the seizure's id on the unit (from 1)
    function registerSeizure(bytes32 unitId, bytes32 ruling) external returns (uint32 seizureId);

    /// @notice Releases seizure `seizureId` of `unitId`.
    /// Requirements: sender is a current COURT key of the court that registered it; seizure active.
    /// Emits {SeizureReleased}.
    function releaseSeizure(bytes32 unitId, uint32 seizureId) external;

    // ---------------------------------------------------------------------------- signed actions
    /// @notice Runs the action `data` (the ABI-encoded call of one of this registry's actions) as
    /// the key that signed it, so that the platform can relay a department's steps.
    /// @param data the action's calldata: selector and arguments
    /// @param nonce the signer's unordered nonce (any unused number)
    /// @param deadline last block time at which the signature is good
    /// @param signature the signer's EIP-712 signature of PropertyAction(bytes data,uint256 nonce,uint64 deadline)
    /// Requirements: deadline not passed; signature recovers; the nonce unused by the signer; the
    /// selector one of the actions above; the action's own requirements, with the signer as sender.
    /// Emits {SignedActionExecuted} and the action's events.
    /// @return result the action's ABI-encoded return data
    function executeSigned(bytes calldata data, uint256 nonce, uint64 deadline, bytes calldata signature)
        external
        returns (bytes memory result);

    /// @notice The EIP-712 digest a key signs for {executeSigned}.
    function actionDigest(bytes calldata data, uint256 nonce, uint64 deadline) external view returns (bytes32);

    /// @notice Whether `signer` used `nonce` in a signed action.
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool);

    // ----------------------------------------------------------------------------------- views
    /// @notice The DocumentRegistry (and issuer registry) this registry works with.
    function documentRegistry() external view returns (address);

    /// @notice A unit's current certificate, owners, active mortgages and seizures, and its open
    /// (or returned) case with its approvals, in one call. `registered` is false for an unknown unit.
    function unitState(bytes32 unitId) external view returns (UnitState memory);

    /// @notice Transfer case `caseId`, whatever its state.
    /// Requirements: the case exists.
    function transferCase(uint64 caseId) external view returns (TransferCase memory);

    /// @notice Every mortgage ever registered on `unitId`, released ones included.
    function mortgageHistory(bytes32 unitId) external view returns (Mortgage[] memory);

    /// @notice Every seizure ever registered on `unitId`, released ones included.
    function seizureHistory(bytes32 unitId) external view returns (Seizure[] memory);
}
