// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {
    CaseKind,
    CaseState,
    Department,
    DocumentStatus,
    Mortgage,
    Owner,
    REASON_CORRECTED,
    REASON_MORTGAGE_RELEASED,
    REASON_TRANSFERRED,
    ROLE_BANK,
    ROLE_COURT,
    ROLE_HOUSING,
    ROLE_NATRES,
    ROLE_TAX,
    Seizure,
    SignerKey,
    State,
    TitleChange,
    TransferCase,
    UnitState,
    WORKFLOW_ROLES
} from "./Common.sol";
import {IDocumentRegistry} from "./interfaces/IDocumentRegistry.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";
import {IPropertyRegistry} from "./interfaces/IPropertyRegistry.sol";

/// @title e-Registry property registry
/// @notice Units, their titles, transfer cases, mortgages and seizures. Departments, keys and
/// roles come from the issuer registry (the DocumentRegistry deployment), which stays their only
/// source of truth: this contract has no administrator. It holds the DocumentRegistry's
/// PROPERTY_REGISTRY_ROLE: a unit's current title, and an active mortgage's certificate, are locked
/// there and change only through this contract's cases (transfer, correction) and releases.
///
/// A relayed action ({executeSigned}) calls this contract itself with the recovered signer appended
/// to the calldata (the ERC-2771 convention, with this contract as its own trusted forwarder): the
/// actions take their sender from {_sender}, which trusts the appended address only on such a
/// self-call, which nothing but {executeSigned} can make.
contract PropertyRegistry is EIP712, IPropertyRegistry {
    using EnumerableSet for EnumerableSet.UintSet;

    /// @notice Type of the certificates that carry a unit's title.
    bytes32 public constant PROPERTY_CERTIFICATE_TYPE = keccak256("property-certificate");
    /// @notice Type of the certificates that evidence a mortgage.
    bytes32 public constant MORTGAGE_CERTIFICATE_TYPE = keccak256("mortgage-certificate");
    /// @notice Basis points of whole ownership.
    uint16 public constant WHOLE_SHARE = 10_000;
    /// @notice Co-owners per title.
    uint256 public constant MAX_OWNERS = 32;
    /// @notice Active mortgages, and active seizures, per unit.
    uint256 public constant MAX_ENCUMBRANCES = 16;
    /// @notice EIP-712 type of a relayed action.
    bytes32 public constant ACTION_TYPEHASH = keccak256("PropertyAction(bytes data,uint256 nonce,uint64 deadline)");

    /// @dev Roles that approve a transfer, and may reject or return it.
    uint8 private constant _APPROVING_ROLES = WORKFLOW_ROLES;
    /// @dev Roles of a second department that may approve a correction.
    uint8 private constant _CORRECTION_ROLES = WORKFLOW_ROLES | ROLE_COURT;
    /// @dev GOVERNOR_ROLE of the DocumentRegistry: the council's time lock.
    bytes32 private constant _GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");

    /// @dev One storage word per unit. Department ids are kept as their registry index.
    struct UnitRecord {
        uint32 title; // current title, 0 = unit unknown
        uint64 openCase; // open or returned case, 0 = none
        uint40 registeredAt;
        uint32 registeredBy;
    }

    /// @dev A certificate and the owners it names; a unit's current title or a case's proposal.
    struct TitleRecord {
        bytes32 certRoot;
        bytes32 certTarget;
        uint32 department; // index of the department that anchored the certificate
        Owner[] owners;
    }

    /// @dev Two storage words: the unit, then the case's state and approvals.
    struct CaseRecord {
        bytes32 unitId;
        uint32 title; // proposed title
        uint40 openedAt;
        uint32 round;
        uint32 openedBy;
        CaseState state;
        CaseKind kind;
        uint32 natresApprover; // department indexes, 0 = not approved this round
        uint32 taxApprover;
        uint32 housingApprover;
    }

    struct MortgageRecord {
        bytes32 certRoot;
        bytes32 certTarget;
        uint32 bank;
        uint40 registeredAt;
        uint40 releasedAt;
        uint32 certDepartment; // index of the department that anchored the certificate
    }

    struct SeizureRecord {
        bytes32 ruling;
        uint32 court;
        uint40 registeredAt;
        uint40 releasedAt;
    }

    /// @dev The acting department, resolved from the transaction's sender.
    struct Actor {
        bytes32 id;
        uint32 index;
        uint8 roles;
    }

    IDocumentRegistry private immutable _documents;
    IIssuerRegistry private immutable _issuers;

    mapping(bytes32 unitId => UnitRecord) private _units;
    mapping(uint32 title => TitleRecord) private _titles;
    uint32 private _titleCount;
    mapping(uint64 caseId => CaseRecord) private _cases;
    uint64 private _caseCount;
    mapping(bytes32 unitId => MortgageRecord[]) private _mortgages;
    mapping(bytes32 unitId => EnumerableSet.UintSet) private _activeMortgages;
    mapping(bytes32 unitId => SeizureRecord[]) private _seizures;
    mapping(bytes32 unitId => EnumerableSet.UintSet) private _activeSeizures;
    mapping(uint64 caseId => mapping(uint32 mortgageId => uint32 round)) private _consents;
    mapping(address signer => mapping(uint256 word => uint256 bits)) private _nonces;
    /// @dev Mortgage certificates ever registered, by keccak256(department index, root, target): each once.
    mapping(bytes32 certificate => bool) private _usedMortgageCertificates;
    mapping(uint64 caseId => uint16 reason) private _correctionReasons;

    /// @param documentRegistry the DocumentRegistry deployment (also the issuer registry)
    constructor(address documentRegistry) EIP712("e-Registry PropertyRegistry", "1") {
        _documents = IDocumentRegistry(documentRegistry);
        _issuers = IIssuerRegistry(documentRegistry);
    }

    // ------------------------------------------------------------------------------------ units

    /// @inheritdoc IPropertyRegistry
    function registerUnit(
        bytes32 unitId,
        bytes32 certRoot,
        bytes32 certTarget,
        bytes32[] calldata certProof,
        Owner[] calldata owners
    ) external {
        if (unitId == bytes32(0)) revert PropertyRegistryInvalidUnit();
        Actor memory actor = _actor(ROLE_NATRES, false);
        UnitRecord storage unit = _units[unitId];
        if (unit.title != 0) revert PropertyRegistryUnitExists(unitId);
        if (unit.openCase != 0) revert PropertyRegistryCaseAlreadyOpen(unitId, unit.openCase);
        _checkOwners(owners);
        _checkCertificate(certRoot, certTarget, certProof, PROPERTY_CERTIFICATE_TYPE, actor.id);
        uint32 title = _newTitle(certRoot, certTarget, actor.index, owners);
        unit.title = title;
        unit.registeredAt = _now();
        unit.registeredBy = actor.index;
        emit UnitRegistered(unitId, certTarget, actor.id, certRoot, owners);
        _documents.lockTitle(actor.id, certRoot, certTarget);
    }

    // -------------------------------------------------------------------------------- transfers

    /// @inheritdoc IPropertyRegistry
    function openTransfer(
        bytes32 unitId,
        bytes32 certRoot,
        bytes32 certTarget,
        bytes32[] calldata certProof,
        Owner[] calldata owners
    ) external returns (uint64 caseId) {
        UnitRecord storage unit = _unit(unitId);
        Actor memory actor = _actor(ROLE_NATRES, false);
        if (unit.openCase != 0) revert PropertyRegistryCaseAlreadyOpen(unitId, unit.openCase);
        _requireNotSeized(unitId);
        TitleRecord storage current = _titles[unit.title];
        _requireActive(current.department, current.certRoot, current.certTarget);
        _checkProposal(unitId, current.certTarget, certRoot, certTarget, certProof, owners, actor.id);
        caseId = _openCase(unit, unitId, _newTitle(certRoot, certTarget, actor.index, owners), actor.index, CaseKind.Transfer);
        emit TransferOpened(unitId, caseId, actor.id, certRoot, certTarget, owners);
    }

    /// @inheritdoc IPropertyRegistry
    function approveTransfer(uint64 caseId, uint32 round, uint8 roles) external {
        CaseRecord storage case_ = _case(caseId);
        // One role per approval: each of NATRES, TAX and HOUSING approves for itself.
        if (roles & ~_APPROVING_ROLES != 0 || roles == 0 || roles & (roles - 1) != 0) {
            revert PropertyRegistryInvalidApprovalRoles(roles);
        }
        Actor memory actor = _actor(roles, true);
        if (case_.kind != CaseKind.Transfer) revert PropertyRegistryWrongCaseKind(caseId, case_.kind);
        if (case_.state != CaseState.Open) revert PropertyRegistryInvalidCaseState(caseId, case_.state);
        if (round != case_.round) revert PropertyRegistryStaleRound(caseId, round, case_.round);
        uint32 natres = case_.natresApprover;
        uint32 tax = case_.taxApprover;
        uint32 housing = case_.housingApprover;
        if (natres == actor.index || tax == actor.index || housing == actor.index) {
            revert PropertyRegistryAlreadyApproved(caseId, actor.id);
        }
        natres = _approve(caseId, natres, roles, ROLE_NATRES, actor.index);
        tax = _approve(caseId, tax, roles, ROLE_TAX, actor.index);
        housing = _approve(caseId, housing, roles, ROLE_HOUSING, actor.index);
        case_.natresApprover = natres;
        case_.taxApprover = tax;
        case_.housingApprover = housing;
        bytes32 unitId = case_.unitId;
        emit TransferApproved(unitId, caseId, actor.id, round, roles);
        if (natres != 0 && tax != 0 && housing != 0) _finalize(unitId, caseId, case_);
    }

    /// @inheritdoc IPropertyRegistry
    function rejectTransfer(uint64 caseId, uint16 reason) external {
        CaseRecord storage case_ = _case(caseId);
        Actor memory actor = _actor(_APPROVING_ROLES, false);
        CaseState state = case_.state;
        if (state != CaseState.Open && state != CaseState.Returned) {
            revert PropertyRegistryInvalidCaseState(caseId, state);
        }
        case_.state = CaseState.Rejected;
        bytes32 unitId = case_.unitId;
        _units[unitId].openCase = 0;
        emit TransferRejected(unitId, caseId, actor.id, reason);
    }

    /// @inheritdoc IPropertyRegistry
    function returnTransfer(uint64 caseId, uint16 reason) external {
        CaseRecord storage case_ = _case(caseId);
        Actor memory actor = _actor(_APPROVING_ROLES, false);
        if (case_.kind != CaseKind.Transfer) revert PropertyRegistryWrongCaseKind(caseId, case_.kind);
        if (case_.state != CaseState.Open) revert PropertyRegistryInvalidCaseState(caseId, case_.state);
        case_.state = CaseState.Returned;
        emit TransferReturned(case_.unitId, caseId, actor.id, reason);
    }

    /// @inheritdoc IPropertyRegistry
    function resubmitTransfer(
        uint64 caseId,
        bytes32 certRoot,
        bytes32 certTarget,
        bytes32[] calldata certProof,
        Owner[] calldata owners
    ) external {
        CaseRecord storage case_ = _case(caseId);
        Actor memory actor = _actor(ROLE_NATRES, false);
        if (case_.state != CaseState.Returned) revert PropertyRegistryInvalidCaseState(caseId, case_.state);
        bytes32 unitId = case_.unitId;
        _requireNotSeized(unitId);
        bytes32 currentTarget = _titles[_units[unitId].title].certTarget;
        _checkProposal(unitId, currentTarget, certRoot, certTarget, certProof, owners, actor.id);
        uint32 round = case_.round + 1;
        case_.title = _newTitle(certRoot, certTarget, actor.index, owners);
        case_.round = round;
        case_.state = CaseState.Open;
        case_.natresApprover = 0;
        case_.taxApprover = 0;
        case_.housingApprover = 0;
        emit TransferResubmitted(unitId, caseId, actor.id, round, certRoot, certTarget, owners);
    }

    /// @inheritdoc IPropertyRegistry
    function cancelTransfer(uint64 caseId, uint16 reason) external {
        CaseRecord storage case_ = _case(caseId);
        Actor memory actor = _actor(ROLE_NATRES, false);
        CaseState state = case_.state;
        if (state != CaseState.Open && state != CaseState.Returned) {
            revert PropertyRegistryInvalidCaseState(caseId, state);
        }
        case_.state = CaseState.Cancelled;
        bytes32 unitId = case_.unitId;
        _units[unitId].openCase = 0;
        emit TransferCancelled(unitId, caseId, actor.id, reason);
    }

    /// @inheritdoc IPropertyRegistry
    function consentToTransfer(uint64 caseId, uint32 round, uint32 mortgageId) external {
        CaseRecord storage case_ = _case(caseId);
        bytes32 unitId = case_.unitId;
        MortgageRecord storage mortgage = _mortgage(unitId, mortgageId);
        Actor memory actor = _actor(ROLE_BANK, false);
        if (mortgage.bank != actor.index) revert PropertyRegistryNotMortgagee(unitId, mortgageId, actor.id);
        if (mortgage.releasedAt != 0) revert PropertyRegistryMortgageReleased(unitId, mortgageId);
        if (case_.state != CaseState.Open) revert PropertyRegistryInvalidCaseState(caseId, case_.state);
        if (round != case_.round) revert PropertyRegistryStaleRound(caseId, round, case_.round);
        if (_consents[caseId][mortgageId] == round) revert PropertyRegistryAlreadyConsented(caseId, mortgageId);
        _consents[caseId][mortgageId] = round;
        emit TransferConsented(unitId, caseId, actor.id, mortgageId, round);
    }

    // ------------------------------------------------------------------------------ corrections

    /// @inheritdoc IPropertyRegistry
    function openCorrection(
        bytes32 unitId,
        bytes32 certRoot,
        bytes32 certTarget,
        bytes32[] calldata certProof,
        Owner[] calldata owners,
        uint16 reason
    ) external returns (uint64 caseId) {
        UnitRecord storage unit = _unit(unitId);
        Actor memory actor = _actor(ROLE_NATRES, false);
        if (unit.openCase != 0) revert PropertyRegistryCaseAlreadyOpen(unitId, unit.openCase);
        uint32 title = 0; // a correction without a certificate revokes the title
        if (certTarget != bytes32(0)) {
            _checkProposal(unitId, _titles[unit.title].certTarget, certRoot, certTarget, certProof, owners, actor.id);
            title = _newTitle(certRoot, certTarget, actor.index, owners);
        } else if (owners.length != 0) {
            revert PropertyRegistryInvalidOwnerCount(owners.length);
        }
        caseId = _openCase(unit, unitId, title, actor.index, CaseKind.Correction);
        _correctionReasons[caseId] = reason;
        emit CorrectionOpened(unitId, caseId, actor.id, certRoot, certTarget, owners, reason);
    }

    /// @inheritdoc IPropertyRegistry
    function approveCorrection(uint64 caseId) external {
        CaseRecord storage case_ = _case(caseId);
        bytes32 approver = bytes32(0); // governance: the council's time lock
        if (!IAccessControl(address(_documents)).hasRole(_GOVERNOR_ROLE, _sender())) {
            Actor memory actor = _actor(_CORRECTION_ROLES, false);
            if (actor.index == case_.openedBy) revert PropertyRegistryAlreadyApproved(caseId, actor.id);
            approver = actor.id;
            // A seized unit's title is not corrected behind the court's back: only the council may.
            _requireNotSeized(case_.unitId);
        }
        if (case_.kind != CaseKind.Correction) revert PropertyRegistryWrongCaseKind(caseId, case_.kind);
        if (case_.state != CaseState.Open) revert PropertyRegistryInvalidCaseState(caseId, case_.state);
        bytes32 unitId = case_.unitId;
        UnitRecord storage unit = _units[unitId];
        TitleRecord storage previous = _titles[unit.title];
        bytes32 previousDepartment = _departmentId(previous.department);
        uint32 title = case_.title;
        case_.state = CaseState.Finalized;
        unit.openCase = 0;
        emit CorrectionApproved(unitId, caseId, approver);
        if (title == 0) {
            unit.title = 0; // the unit has no title until it is registered again
            _documents.registryRevoke(previousDepartment, previous.certRoot, previous.certTarget, REASON_CORRECTED);
            emit TitleCorrected(unitId, caseId, bytes32(0), bytes32(0), previous.certRoot, previous.certTarget);
            return;
        }
        TitleRecord storage next = _titles[title];
        unit.title = title;
        emit TitleCorrected(unitId, caseId, next.certTarget, next.certRoot, previous.certRoot, previous.certTarget);
        _documents.replaceTitle(
            TitleChange({
                department: previousDepartment,
                root: previous.certRoot,
                targetHash: previous.certTarget,
                successorDepartment: _departmentId(next.department),
                successorRoot: next.certRoot,
                successor: next.certTarget,
                reason: REASON_CORRECTED
            })
        );
    }

    // ------------------------------------------------------------------- mortgages and seizures

    /// @inheritdoc IPropertyRegistry
    function registerMortgage(bytes32 unitId, bytes32 certRoot, bytes32 certTarget, bytes32[] calldata certProof)
        external
        returns (uint32 mortgageId)
    {
        UnitRecord storage unit = _unit(unitId);
        Actor memory actor = _actor(ROLE_BANK, false);
        _requireNotSeized(unitId);
        // The mortgage's certificate (不动产登记证明) is issued by the unit's registration
        // department, bound to this unit and this bank, and used once, ever.
        uint32 issuer = _titles[unit.title].department;
        bytes32 issuerId = _departmentId(issuer);
        bytes32 certificate = keccak256(abi.encode(issuer, certRoot, certTarget));
        if (_usedMortgageCertificates[certificate]) {
            revert PropertyRegistryMortgageCertificateUsed(certRoot, certTarget);
        }
        _checkCertificate(certRoot, certTarget, certProof, MORTGAGE_CERTIFICATE_TYPE, issuerId);
        _usedMortgageCertificates[certificate] = true;
        EnumerableSet.UintSet storage active = _activeMortgages[unitId];
        if (active.length() >= MAX_ENCUMBRANCES) revert PropertyRegistryTooManyEncumbrances(unitId, MAX_ENCUMBRANCES);
        MortgageRecord[] storage mortgages = _mortgages[unitId];
        mortgages.push(
            MortgageRecord({
                certRoot: certRoot,
                certTarget: certTarget,
                bank: actor.index,
                registeredAt: _now(),
                releasedAt: 0,
                certDepartment: issuer
            })
        );
        mortgageId = uint32(mortgages.length);
        active.add(mortgageId);
        emit MortgageRegistered(unitId, mortgageId, actor.id, certRoot, certTarget);
        _documents.lockTitle(issuerId, certRoot, certTarget);
    }

    /// @inheritdoc IPropertyRegistry
    function releaseMortgage(bytes32 unitId, uint32 mortgageId) external {
        MortgageRecord storage mortgage = _mortgage(unitId, mortgageId);
        Actor memory actor = _actor(ROLE_BANK, false);
        if (mortgage.bank != actor.index) revert PropertyRegistryNotMortgagee(unitId, mortgageId, actor.id);
        if (mortgage.releasedAt != 0) revert PropertyRegistryMortgageReleased(unitId, mortgageId);
        mortgage.releasedAt = _now();
        _activeMortgages[unitId].remove(mortgageId);
        emit MortgageReleased(unitId, mortgageId, actor.id);
        // The certificate no longer evidences a mortgage.
        bytes32 issuerId = _departmentId(mortgage.certDepartment);
        DocumentStatus memory status = _documents.documentStatus(issuerId, mortgage.certRoot, mortgage.certTarget);
        if (status.batch.state != State.Revoked && status.document.state != State.Revoked) {
            _documents.registryRevoke(issuerId, mortgage.certRoot, mortgage.certTarget, REASON_MORTGAGE_RELEASED);
        }
    }

    /// @inheritdoc IPropertyRegistry
    function registerSeizure(bytes32 unitId, bytes32 ruling) external returns (uint32 seizureId) {
        _unit(unitId);
        Actor memory actor = _actor(ROLE_COURT, false);
        if (ruling == bytes32(0)) revert PropertyRegistryInvalidRuling();
        EnumerableSet.UintSet storage active = _activeSeizures[unitId];
        if (active.length() >= MAX_ENCUMBRANCES) revert PropertyRegistryTooManyEncumbrances(unitId, MAX_ENCUMBRANCES);
        SeizureRecord[] storage seizures = _seizures[unitId];
        seizures.push(SeizureRecord({ruling: ruling, court: actor.index, registeredAt: _now(), releasedAt: 0}));
        seizureId = uint32(seizures.length);
        active.add(seizureId);
        emit SeizureRegistered(unitId, seizureId, actor.id, ruling);
    }

    /// @inheritdoc IPropertyRegistry
    function releaseSeizure(bytes32 unitId, uint32 seizureId) external {
        SeizureRecord[] storage seizures = _seizures[unitId];
        if (seizureId == 0 || seizureId > seizures.length) revert PropertyRegistryUnknownSeizure(unitId, seizureId);
        SeizureRecord storage seizure = seizures[seizureId - 1];
        Actor memory actor = _actor(ROLE_COURT, false);
        if (seizure.court != actor.index) revert PropertyRegistryNotSeizingCourt(unitId, seizureId, actor.id);
        if (seizure.releasedAt != 0) revert PropertyRegistrySeizureReleased(unitId, seizureId);
        seizure.releasedAt = _now();
        _activeSeizures[unitId].remove(seizureId);
        emit SeizureReleased(unitId, seizureId, actor.id);
    }

    // --------------------------------------------------------------------------- signed actions

    /// @inheritdoc IPropertyRegistry
    function executeSigned(bytes calldata data, uint256 nonce, uint64 deadline, bytes calldata signature)
        external
        returns (bytes memory result)
    {
        if (_now() > deadline) revert PropertyRegistryExpiredSignature(deadline);
        bytes4 selector = data.length >= 4 ? bytes4(data[:4]) : bytes4(0);
        if (!_isAction(selector)) revert PropertyRegistryActionNotAllowed(selector);
        bytes32 digest = actionDigest(data, nonce, deadline);
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signature);
        if (error != ECDSA.RecoverError.NoError) revert PropertyRegistryInvalidSignature();
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bits = _nonces[signer][nonce >> 8];
        if (bits & bit != 0) revert PropertyRegistryNonceUsed(signer, nonce);
        _nonces[signer][nonce >> 8] = bits | bit;
        emit SignedActionExecuted(signer, nonce, digest);
        bool ok;
        (ok, result) = address(this).call(abi.encodePacked(data, signer));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    /// @inheritdoc IPropertyRegistry
    function actionDigest(bytes calldata data, uint256 nonce, uint64 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ACTION_TYPEHASH, keccak256(data), nonce, deadline)));
    }

    /// @inheritdoc IPropertyRegistry
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _nonces[signer][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    // ------------------------------------------------------------------------------------ views

    /// @inheritdoc IPropertyRegistry
    function documentRegistry() external view returns (address) {
        return address(_documents);
    }

    /// @inheritdoc IPropertyRegistry
    function unitState(bytes32 unitId) external view returns (UnitState memory state) {
        UnitRecord memory unit = _units[unitId];
        state.unitId = unitId;
        if (unit.title == 0) return state;
        state.registered = true;
        state.registeredBy = _departmentId(unit.registeredBy);
        state.registeredAt = unit.registeredAt;
        TitleRecord storage title = _titles[unit.title];
        state.certRoot = title.certRoot;
        state.certTarget = title.certTarget;
        state.owners = title.owners;
        uint256[] memory mortgageIds = _activeMortgages[unitId].values();
        state.mortgages = new Mortgage[](mortgageIds.length);
        for (uint256 i = 0; i < mortgageIds.length; ++i) {
            state.mortgages[i] = _mortgageView(unitId, uint32(mortgageIds[i]), unit.openCase);
        }
        uint256[] memory seizureIds = _activeSeizures[unitId].values();
        state.seizures = new Seizure[](seizureIds.length);
        for (uint256 i = 0; i < seizureIds.length; ++i) {
            state.seizures[i] = _seizureView(unitId, uint32(seizureIds[i]));
        }
        if (unit.openCase != 0) state.openCase = _caseView(unit.openCase);
    }

    /// @inheritdoc IPropertyRegistry
    function transferCase(uint64 caseId) external view returns (TransferCase memory) {
        _case(caseId);
        return _caseView(caseId);
    }

    /// @inheritdoc IPropertyRegistry
    function mortgageHistory(bytes32 unitId) external view returns (Mortgage[] memory mortgages) {
        uint256 length = _mortgages[unitId].length;
        uint64 openCase = _units[unitId].openCase;
        mortgages = new Mortgage[](length);
        for (uint256 i = 0; i < length; ++i) {
            mortgages[i] = _mortgageView(unitId, uint32(i + 1), openCase);
        }
    }

    /// @inheritdoc IPropertyRegistry
    function seizureHistory(bytes32 unitId) external view returns (Seizure[] memory seizures) {
        uint256 length = _seizures[unitId].length;
        seizures = new Seizure[](length);
        for (uint256 i = 0; i < length; ++i) {
            seizures[i] = _seizureView(unitId, uint32(i + 1));
        }
    }

    // --------------------------------------------------------------------------------- internal

    /// @dev Block time; the single place this contract reads the clock.
    function _now() internal view virtual returns (uint40) {
        return uint40(block.timestamp);
    }

    /// @dev The acting key: the signer appended by {executeSigned} on a self-call, else the sender.
    function _sender() private view returns (address sender) {
        sender = msg.sender;
        if (sender == address(this) && msg.data.length >= 24) {
            sender = address(bytes20(msg.data[msg.data.length - 20:]));
        }
    }

    /// @dev The actions {executeSigned} may run.
    function _isAction(bytes4 selector) private pure returns (bool) {
        return selector == IPropertyRegistry.registerUnit.selector
            || selector == IPropertyRegistry.openTransfer.selector
            || selector == IPropertyRegistry.approveTransfer.selector
            || selector == IPropertyRegistry.rejectTransfer.selector
            || selector == IPropertyRegistry.returnTransfer.selector
            || selector == IPropertyRegistry.resubmitTransfer.selector
            || selector == IPropertyRegistry.cancelTransfer.selector
            || selector == IPropertyRegistry.consentToTransfer.selector
            || selector == IPropertyRegistry.registerMortgage.selector
            || selector == IPropertyRegistry.releaseMortgage.selector
            || selector == IPropertyRegistry.registerSeizure.selector
            || selector == IPropertyRegistry.releaseSeizure.selector
            || selector == IPropertyRegistry.openCorrection.selector
            || selector == IPropertyRegistry.approveCorrection.selector;
    }

    /// @dev The department of the sender, which must be a key inside its window of an active
    /// department holding all of `roles` (`all`) or any of them.
    function _actor(uint8 roles, bool all) private view returns (Actor memory actor) {
        address sender = _sender();
        SignerKey memory key;
        try _issuers.getSignerKey(sender) returns (SignerKey memory found) {
            key = found;
        } catch {
            revert PropertyRegistryUnknownKey(sender);
        }
        uint40 at = _now();
        if (at < key.validFrom || (key.validUntil != 0 && at >= key.validUntil)) {
            revert PropertyRegistryKeyNotValid(sender, key.validFrom, key.validUntil, at);
        }
        Department memory dept = _issuers.getDepartment(key.department);
        if (!dept.active) revert PropertyRegistryDepartmentInactive(key.department);
        uint8 held = dept.roles & roles;
        if (all ? held != roles : held == 0) revert PropertyRegistryUnauthorized(key.department, roles);
        actor = Actor({id: key.department, index: dept.index, roles: dept.roles});
    }

    /// @dev Whether the key that anchored a certificate was inside its (possibly backdated) window then.
    function _keyValidAt(address signer, uint40 at) private view returns (bool) {
        SignerKey memory key = _issuers.getSignerKey(signer);
        return at >= key.validFrom && (key.validUntil == 0 || at < key.validUntil);
    }

    /// @dev The approver of `role` after an approval of `roles` by department `index`.
    function _approve(uint64 caseId, uint32 approver, uint8 roles, uint8 role, uint32 index)
        private
        pure
        returns (uint32)
    {
        if (roles & role == 0) return approver;
        if (approver != 0) revert PropertyRegistryRoleAlreadyApproved(caseId, role);
        return index;
    }

    /// @dev The last approval: the unit must be free, then the case's title becomes current and
    /// the old certificate is superseded by the new one in the DocumentRegistry.
    function _finalize(bytes32 unitId, uint64 caseId, CaseRecord storage case_) private {
        _requireNotSeized(unitId);
        uint32 round = case_.round;
        uint256[] memory mortgageIds = _activeMortgages[unitId].values();
        for (uint256 i = 0; i < mortgageIds.length; ++i) {
            uint32 mortgageId = uint32(mortgageIds[i]);
            if (_consents[caseId][mortgageId] != round) {
                bytes32 bank = _departmentId(_mortgages[unitId][mortgageId - 1].bank);
                revert PropertyRegistryMortgageNotConsented(unitId, mortgageId, bank);
            }
        }
        UnitRecord storage unit = _units[unitId];
        TitleRecord storage previous = _titles[unit.title];
        TitleRecord storage next = _titles[case_.title];
        unit.title = case_.title;
        unit.openCase = 0;
        case_.state = CaseState.Finalized;
        emit TransferFinalized(
            unitId, caseId, next.certTarget, next.certRoot, previous.certRoot, previous.certTarget, round
        );
        _documents.replaceTitle(
            TitleChange({
                department: _departmentId(previous.department),
                root: previous.certRoot,
                targetHash: previous.certTarget,
                successorDepartment: _departmentId(next.department),
                successorRoot: next.certRoot,
                successor: next.certTarget,
                reason: REASON_TRANSFERRED
            })
        );
    }

    function _openCase(UnitRecord storage unit, bytes32 unitId, uint32 title, uint32 openedBy, CaseKind kind)
        private
        returns (uint64 caseId)
    {
        caseId = ++_caseCount;
        unit.openCase = caseId;
        _cases[caseId] = CaseRecord({
            unitId: unitId,
            title: title,
            openedAt: _now(),
            round: 1,
            openedBy: openedBy,
            state: CaseState.Open,
            kind: kind,
            natresApprover: 0,
            taxApprover: 0,
            housingApprover: 0
        });
    }

    function _newTitle(bytes32 certRoot, bytes32 certTarget, uint32 department, Owner[] calldata owners)
        private
        returns (uint32 id)
    {
        id = ++_titleCount;
        TitleRecord storage title = _titles[id];
        title.certRoot = certRoot;
        title.certTarget = certTarget;
        title.department = department;
        for (uint256 i = 0; i < owners.length; ++i) {
            title.owners.push(owners[i]);
        }
    }

    /// @dev Checks a case's proposed certificate (new, issued by `issuer`) and owners.
    function _checkProposal(
        bytes32 unitId,
        bytes32 currentTarget,
        bytes32 certRoot,
        bytes32 certTarget,
        bytes32[] calldata certProof,
        Owner[] calldata owners,
        bytes32 issuer
    ) private view {
        _checkOwners(owners);
        if (certTarget == currentTarget) revert PropertyRegistryCertificateUnchanged(unitId, certTarget);
        _checkCertificate(certRoot, certTarget, certProof, PROPERTY_CERTIFICATE_TYPE, issuer);
    }

    function _checkOwners(Owner[] calldata owners) private pure {
        uint256 count = owners.length;
        if (count == 0 || count > MAX_OWNERS) revert PropertyRegistryInvalidOwnerCount(count);
        uint256 total = 0;
        for (uint256 i = 0; i < count; ++i) {
            bytes32 commitment = owners[i].commitment;
            uint16 share = owners[i].share;
            if (commitment == bytes32(0) || share == 0) revert PropertyRegistryInvalidOwner(i, commitment);
            for (uint256 j = 0; j < i; ++j) {
                if (owners[j].commitment == commitment) revert PropertyRegistryInvalidOwner(i, commitment);
            }
            total += share;
        }
        if (total != WHOLE_SHARE) revert PropertyRegistryInvalidShares(total);
    }

    /// @dev The certificate is proved under `root`, anchored by `issuer`, of `docType`, active, and
    /// no unit's title nor an active mortgage's certificate already.
    function _checkCertificate(
        bytes32 root,
        bytes32 target,
        bytes32[] calldata proof,
        bytes32 docType,
        bytes32 issuer
    ) private view {
        bytes32 leaf = keccak256(abi.encodePacked(bytes1(0x00), target));
        if (target == bytes32(0) || !MerkleProof.verifyCalldata(proof, root, leaf)) {
            revert PropertyRegistryInvalidCertificateProof(root, target);
        }
        DocumentStatus memory status = _documents.documentStatus(issuer, root, target);
        if (!status.anchored || !_keyValidAt(status.signer, status.anchoredAt)) {
            revert PropertyRegistryCertificateNotAnchored(root, target);
        }
        if (status.docType != docType) revert PropertyRegistryCertificateWrongType(root, target, status.docType);
        if (status.batch.state != State.Active || status.document.state != State.Active) {
            revert PropertyRegistryCertificateNotActive(root, target);
        }
        if (status.titleLocked) revert PropertyRegistryCertificateInUse(root, target);
    }

    function _requireActive(uint32 department, bytes32 root, bytes32 target) private view {
        DocumentStatus memory status = _documents.documentStatus(_departmentId(department), root, target);
        if (status.batch.state != State.Active || status.document.state != State.Active) {
            revert PropertyRegistryCertificateNotActive(root, target);
        }
    }

    function _requireNotSeized(bytes32 unitId) private view {
        uint256 active = _activeSeizures[unitId].length();
        if (active != 0) revert PropertyRegistryUnitSeized(unitId, active);
    }

    function _unit(bytes32 unitId) private view returns (UnitRecord storage unit) {
        unit = _units[unitId];
        if (unit.title == 0) revert PropertyRegistryUnknownUnit(unitId);
    }

    function _case(uint64 caseId) private view returns (CaseRecord storage case_) {
        case_ = _cases[caseId];
        if (case_.state == CaseState.None) revert PropertyRegistryUnknownCase(caseId);
    }

    function _mortgage(bytes32 unitId, uint32 mortgageId) private view returns (MortgageRecord storage) {
        MortgageRecord[] storage mortgages = _mortgages[unitId];
        if (mortgageId == 0 || mortgageId > mortgages.length) revert PropertyRegistryUnknownMortgage(unitId, mortgageId);
        return mortgages[mortgageId - 1];
    }

    function _departmentId(uint32 index) private view returns (bytes32) {
        return index == 0 ? bytes32(0) : _issuers.departmentIdAt(index);
    }

    function _caseView(uint64 caseId) private view returns (TransferCase memory view_) {
        CaseRecord memory case_ = _cases[caseId];
        TitleRecord storage title = _titles[case_.title];
        view_.id = caseId;
        view_.kind = case_.kind;
        view_.reason = _correctionReasons[caseId];
        view_.unitId = case_.unitId;
        view_.state = case_.state;
        view_.round = case_.round;
        view_.openedAt = case_.openedAt;
        view_.openedBy = _departmentId(case_.openedBy);
        view_.certRoot = title.certRoot;
        view_.certTarget = title.certTarget;
        view_.owners = title.owners;
        view_.natresApprover = _departmentId(case_.natresApprover);
        view_.taxApprover = _departmentId(case_.taxApprover);
        view_.housingApprover = _departmentId(case_.housingApprover);
        view_.approvedRoles = (case_.natresApprover != 0 ? ROLE_NATRES : 0)
            | (case_.taxApprover != 0 ? ROLE_TAX : 0) | (case_.housingApprover != 0 ? ROLE_HOUSING : 0);
    }

    function _mortgageView(bytes32 unitId, uint32 mortgageId, uint64 openCase)
        private
        view
        returns (Mortgage memory)
    {
        MortgageRecord memory record = _mortgages[unitId][mortgageId - 1];
        bool consented = openCase != 0 && _cases[openCase].state == CaseState.Open
            && _consents[openCase][mortgageId] == _cases[openCase].round;
        return Mortgage({
            id: mortgageId,
            bank: _departmentId(record.bank),
            certRoot: record.certRoot,
            certTarget: record.certTarget,
            registeredAt: record.registeredAt,
            releasedAt: record.releasedAt,
            consentedToOpenCase: consented
        });
    }

    function _seizureView(bytes32 unitId, uint32 seizureId) private view returns (Seizure memory) {
        SeizureRecord memory record = _seizures[unitId][seizureId - 1];
        return Seizure({
            id: seizureId,
            court: _departmentId(record.court),
            ruling: record.ruling,
            registeredAt: record.registeredAt,
            releasedAt: record.releasedAt
        });
    }
}
