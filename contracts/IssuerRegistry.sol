// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {ALL_ROLES, Department, SignerKey, WORKFLOW_ROLES} from "./Common.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";

/// @title Departments, signing keys and document-type authorizations
/// @notice Deployed as part of {DocumentRegistry}: the anchoring hot path may afford exactly one
/// cold storage read for authorization (a direct anchor must stay under 50,000 gas), so this
/// registry keeps, besides its records, one derived "grant" word per (live key, authorized type)
/// of every active department. Governance changes rewrite the affected grants; the grants are
/// never the source of truth for anything but the hot-path check.
///
/// Governance is split by what an action does. Actions that add power (a department, a key, a
/// type, roles, reactivation, a backdated retirement, which voids what a key signed) need
/// GOVERNOR_ROLE, held by the council's time lock. Protective actions (retiring a key from now
/// on, deactivating a department, withdrawing a type or a role) take effect at once and need
/// GUARDIAN_ROLE (the council itself) or GOVERNOR_ROLE.
abstract contract IssuerRegistry is AccessControl, IIssuerRegistry {
    using EnumerableSet for EnumerableSet.AddressSet;
    using EnumerableSet for EnumerableSet.Bytes32Set;

    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Live keys per department; bounds the work of a governance change.
    uint256 public constant MAX_KEYS = 8;
    /// @notice Authorized types per department; bounds the work of a governance change.
    uint256 public constant MAX_TYPES = 32;

    /// @dev Hot-path authorization of (key, type); present only while all of these hold: the key
    /// is live, its department is active, and the department may issue the type.
    /// `validUntil` is type(uint40).max for an open-ended key; typeIndex 0 means no grant.
    /// `departmentIndex` keys the anchor records, which belong to the department.
    struct Grant {
        uint40 validFrom;
        uint40 validUntil;
        uint16 typeIndex;
        uint32 departmentIndex;
    }

    mapping(bytes32 department => Department) private _departments;
    bytes32[] private _departmentIds;
    mapping(bytes32 department => EnumerableSet.AddressSet) private _liveKeys;
    mapping(bytes32 department => EnumerableSet.Bytes32Set) private _types;
    mapping(address signer => SignerKey) private _keys;
    mapping(bytes32 docType => uint16 index) private _typeIndex; // 1-based
    bytes32[] private _typeIds;
    mapping(address signer => mapping(bytes32 docType => Grant)) private _grants;

    /// @param admin holder of DEFAULT_ADMIN_ROLE (the council's time lock)
    /// @param governor holder of GOVERNOR_ROLE (the council's time lock)
    /// @param guardian holder of GUARDIAN_ROLE (the council)
    constructor(address admin, address governor, address guardian) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, governor);
        _grantRole(GUARDIAN_ROLE, guardian);
    }

    /// @dev Protective actions: the guardian (the council, at once) or the governor (the time lock).
    modifier onlyProtector() {
        _requireProtector();
        _;
    }

    // ----------------------------------------------------------------------------- governance

    /// @inheritdoc IIssuerRegistry
    function registerDepartment(bytes32 id, string calldata name, string calldata creditCode, uint8 roles)
        external
        onlyRole(GOVERNOR_ROLE)
    {
        uint256 nameLength = bytes(name).length;
        if (id == bytes32(0) || nameLength == 0 || nameLength > 128 || bytes(creditCode).length != 18) {
            revert IssuerRegistryInvalidDepartment(id);
        }
        if (_departments[id].index != 0) revert IssuerRegistryDepartmentExists(id);
        _checkRoles(roles);
        _departmentIds.push(id);
        uint32 index = uint32(_departmentIds.length);
        _departments[id] = Department({
            id: id,
            name: name,
            creditCode: creditCode,
            index: index,
            roles: roles,
            active: true,
            registeredAt: _now()
        });
        emit DepartmentRegistered(id, index, name, creditCode, roles);
    }

    /// @inheritdoc IIssuerRegistry
    function setDepartmentActive(bytes32 id, bool active) external {
        if (active) _checkRole(GOVERNOR_ROLE);
        else _requireProtector();
        Department storage dept = _department(id);
        if (dept.active == active) return;
        dept.active = active;
        address[] memory keys = _liveKeys[id].values();
        bytes32[] memory types = _types[id].values();
        for (uint256 k = 0; k < keys.length; ++k) {
            for (uint256 t = 0; t < types.length; ++t) {
                _syncGrant(keys[k], types[t], active);
            }
        }
        emit DepartmentActivationChanged(id, active);
    }

    /// @inheritdoc IIssuerRegistry
    function setDepartmentRoles(bytes32 id, uint8 roles) external {
        Department storage dept = _department(id);
        // Withdrawing roles protects; giving one adds power.
        if (roles & ~dept.roles != 0) _checkRole(GOVERNOR_ROLE);
        else _requireProtector();
        _checkRoles(roles);
        dept.roles = roles;
        emit DepartmentRolesChanged(id, roles);
    }

    /// @inheritdoc IIssuerRegistry
    function addSignerKey(bytes32 department, address signer, uint40 validFrom, uint40 validUntil)
        external
        onlyRole(GOVERNOR_ROLE)
    {
        Department storage dept = _department(department);
        if (signer == address(0)) revert IssuerRegistryUnknownSigner(signer);
        bytes32 existing = _keys[signer].department;
        if (existing != bytes32(0)) revert IssuerRegistrySignerExists(signer, existing);
        if (validUntil != 0 && validUntil <= validFrom) {
            revert IssuerRegistryInvalidKeyWindow(signer, validFrom, validUntil);
        }
        _pruneExpiredKeys(department);
        EnumerableSet.AddressSet storage live = _liveKeys[department];
        if (live.length() >= MAX_KEYS) revert IssuerRegistryTooManyKeys(department, MAX_KEYS);
        _keys[signer] = SignerKey({department: department, validFrom: validFrom, validUntil: validUntil});
        live.add(signer);
        if (dept.active) {
            bytes32[] memory types = _types[department].values();
            for (uint256 t = 0; t < types.length; ++t) {
                _syncGrant(signer, types[t], true);
            }
        }
        emit SignerKeyAdded(department, signer, validFrom, validUntil);
    }

    /// @inheritdoc IIssuerRegistry
    function retireSignerKey(address signer, uint40 validUntil) external {
        // 0: from this very block, whenever the proposal runs (an emergency retirement).
        if (validUntil == 0) validUntil = _now();
        // From now on protects at once; backdated, it also voids what the key signed since, which
        // restores what it revoked and withdraws what it anchored: that waits out the time lock.
        if (validUntil < _now()) _checkRole(GOVERNOR_ROLE);
        else _requireProtector();
        SignerKey storage key = _keys[signer];
        bytes32 department = key.department;
        if (department == bytes32(0)) revert IssuerRegistryUnknownSigner(signer);
        if (validUntil <= key.validFrom || (key.validUntil != 0 && validUntil >= key.validUntil)) {
            revert IssuerRegistryInvalidKeyWindow(signer, key.validFrom, validUntil);
        }
        key.validUntil = validUntil;
        bool stillLive = validUntil > _now();
        bool active = _departments[department].active;
        bytes32[] memory types = _types[department].values();
        for (uint256 t = 0; t < types.length; ++t) {
            _syncGrant(signer, types[t], active && stillLive);
        }
        if (!stillLive) _liveKeys[department].remove(signer);
        emit SignerKeyRetired(department, signer, validUntil);
    }

    /// @inheritdoc IIssuerRegistry
    function registerDocumentType(string calldata name) external onlyRole(GOVERNOR_ROLE) returns (bytes32 docType) {
        uint256 length = bytes(name).length;
        if (length == 0 || length > 64) revert IssuerRegistryInvalidDocumentType(name);
        docType = keccak256(bytes(name));
        if (_typeIndex[docType] != 0) revert IssuerRegistryDocumentTypeExists(docType);
        _typeIds.push(docType);
        uint16 index = uint16(_typeIds.length);
        _typeIndex[docType] = index;
        emit DocumentTypeRegistered(docType, index, name);
    }

    /// @inheritdoc IIssuerRegistry
    function authorizeDocumentType(bytes32 department, bytes32 docType) external onlyRole(GOVERNOR_ROLE) {
        Department storage dept = _department(department);
        if (_typeIndex[docType] == 0) revert IssuerRegistryUnknownDocumentType(docType);
        EnumerableSet.Bytes32Set storage types = _types[department];
        if (types.contains(docType)) revert IssuerRegistryTypeAlreadyAuthorized(department, docType);
        if (types.length() >= MAX_TYPES) revert IssuerRegistryTooManyTypes(department, MAX_TYPES);
        types.add(docType);
        if (dept.active) {
            address[] memory keys = _liveKeys[department].values();
            for (uint256 k = 0; k < keys.length; ++k) {
                _syncGrant(keys[k], docType, true);
            }
        }
        emit DocumentTypeAuthorized(department, docType);
    }

    /// @inheritdoc IIssuerRegistry
    function deauthorizeDocumentType(bytes32 department, bytes32 docType) external onlyProtector {
        _department(department);
        if (!_types[department].remove(docType)) revert IssuerRegistryTypeNotAuthorized(department, docType);
        address[] memory keys = _liveKeys[department].values();
        for (uint256 k = 0; k < keys.length; ++k) {
            _syncGrant(keys[k], docType, false);
        }
        emit DocumentTypeDeauthorized(department, docType);
    }

    // ----------------------------------------------------------------------------------- views

    /// @inheritdoc IIssuerRegistry
    function getDepartment(bytes32 id) external view returns (Department memory) {
        return _department(id);
    }

    /// @inheritdoc IIssuerRegistry
    function departmentCount() external view returns (uint256) {
        return _departmentIds.length;
    }

    /// @inheritdoc IIssuerRegistry
    function departmentIdAt(uint256 index) external view returns (bytes32) {
        if (index == 0 || index > _departmentIds.length) revert IssuerRegistryUnknownDepartment(bytes32(index));
        return _departmentIds[index - 1];
    }

    /// @inheritdoc IIssuerRegistry
    function hasDepartmentRole(bytes32 department, uint8 roles) public view returns (bool) {
        Department storage dept = _departments[department];
        return dept.index != 0 && roles != 0 && dept.roles & roles == roles;
    }

    /// @inheritdoc IIssuerRegistry
    function getSignerKey(address signer) external view returns (SignerKey memory) {
        SignerKey memory key = _keys[signer];
        if (key.department == bytes32(0)) revert IssuerRegistryUnknownSigner(signer);
        return key;
    }

    /// @inheritdoc IIssuerRegistry
    function liveSignerKeys(bytes32 department) external view returns (address[] memory keys) {
        address[] memory all = _liveKeys[department].values();
        keys = new address[](all.length);
        uint256 count = 0;
        uint40 at = _now();
        for (uint256 i = 0; i < all.length; ++i) {
            uint40 until = _keys[all[i]].validUntil;
            if (until == 0 || until > at) keys[count++] = all[i];
        }
        assembly ("memory-safe") {
            mstore(keys, count) // shrink to the live keys
        }
    }

    /// @inheritdoc IIssuerRegistry
    function authorizedDocumentTypes(bytes32 department) external view returns (bytes32[] memory) {
        return _types[department].values();
    }

    /// @inheritdoc IIssuerRegistry
    function isDocumentType(bytes32 docType) external view returns (bool) {
        return _typeIndex[docType] != 0;
    }

    /// @inheritdoc IIssuerRegistry
    function canAnchor(address signer, bytes32 docType) external view returns (bytes32 department, bool allowed) {
        department = _keys[signer].department;
        Grant storage grant = _grants[signer][docType];
        uint40 at = _now();
        allowed = grant.typeIndex != 0 && at >= grant.validFrom && at < grant.validUntil;
    }

    // -------------------------------------------------------------------------------- internal

    /// @dev Block time; the single place the contracts read the clock.
    function _now() internal view virtual returns (uint40) {
        return uint40(block.timestamp);
    }

    /// @dev Authorizes `signer` to anchor `docType` now, in one storage read on success.
    /// On failure, spends more reads to revert with the precise reason.
    function _authorizeAnchor(address signer, bytes32 docType)
        internal
        view
        returns (uint16 typeIndex, uint32 departmentIndex)
    {
        Grant memory grant = _grants[signer][docType];
        uint40 at = _now();
        typeIndex = grant.typeIndex;
        if (typeIndex != 0 && at >= grant.validFrom && at < grant.validUntil) return (typeIndex, grant.departmentIndex);
        bytes32 department = _requireCurrentKey(signer);
        revert IssuerRegistryTypeNotAuthorized(department, docType);
    }

    /// @dev The department of `signer`, which must be a key inside its window of an active department.
    function _requireCurrentKey(address signer) internal view returns (bytes32 department) {
        SignerKey memory key = _keys[signer];
        if (key.department == bytes32(0)) revert IssuerRegistryUnknownSigner(signer);
        uint40 at = _now();
        if (at < key.validFrom || (key.validUntil != 0 && at >= key.validUntil)) {
            revert IssuerRegistryKeyNotValid(signer, key.validFrom, key.validUntil, at);
        }
        if (!_departments[key.department].active) revert IssuerRegistryDepartmentInactive(key.department);
        return key.department;
    }

    /// @dev Department of a registered key (0 when unknown).
    function _departmentOfSigner(address signer) internal view returns (bytes32) {
        return _keys[signer].department;
    }

    /// @dev Index of a registered department (0 when unknown).
    function _departmentIndex(bytes32 department) internal view returns (uint32) {
        return _departments[department].index;
    }

    /// @dev Id of the department with `index`, or 0 for index 0 (governance).
    function _departmentIdAt(uint32 index) internal view returns (bytes32) {
        return index == 0 ? bytes32(0) : _departmentIds[index - 1];
    }

    function _typeIdOf(uint16 typeIndex) internal view returns (bytes32) {
        return typeIndex == 0 ? bytes32(0) : _typeIds[typeIndex - 1];
    }

    function _department(bytes32 id) private view returns (Department storage dept) {
        dept = _departments[id];
        if (dept.index == 0) revert IssuerRegistryUnknownDepartment(id);
    }

    /// @dev Known flags, and at most one of NATRES, TAX and HOUSING (separation of duties).
    function _checkRoles(uint8 roles) private pure {
        if (roles & ~ALL_ROLES != 0) revert IssuerRegistryInvalidRoles(roles);
        uint8 workflow = roles & WORKFLOW_ROLES;
        if (workflow != 0 && workflow & (workflow - 1) != 0) revert IssuerRegistryConflictingRoles(roles);
    }

    function _requireProtector() internal view {
        address sender = _msgSender();
        if (!hasRole(GUARDIAN_ROLE, sender) && !hasRole(GOVERNOR_ROLE, sender)) {
            revert AccessControlUnauthorizedAccount(sender, GUARDIAN_ROLE);
        }
    }

    /// @dev Whether `signer` (a registered key) was inside its window at `at`; unknown keys never are.
    function _keyValidAt(address signer, uint40 at) internal view returns (bool) {
        SignerKey storage key = _keys[signer];
        if (key.department == bytes32(0)) return false;
        uint40 until = key.validUntil;
        return at >= key.validFrom && (until == 0 || at < until);
    }

    function _syncGrant(address signer, bytes32 docType, bool granted) private {
        if (granted) {
            SignerKey storage key = _keys[signer];
            uint40 until = key.validUntil;
            _grants[signer][docType] = Grant({
                validFrom: key.validFrom,
                validUntil: until == 0 ? type(uint40).max : until,
                typeIndex: _typeIndex[docType],
                departmentIndex: _departments[key.department].index
            });
        } else {
            delete _grants[signer][docType];
        }
    }

    /// @dev Drops keys whose window has ended from the live set (their grants with them).
    function _pruneExpiredKeys(bytes32 department) private {
        EnumerableSet.AddressSet storage live = _liveKeys[department];
        uint40 at = _now();
        for (uint256 i = live.length(); i > 0; --i) {
            address signer = live.at(i - 1);
            uint40 until = _keys[signer].validUntil;
            if (until != 0 && until <= at) {
                bytes32[] memory types = _types[department].values();
                for (uint256 t = 0; t < types.length; ++t) {
                    _syncGrant(signer, types[t], false);
                }
                live.remove(signer);
            }
        }
    }
}
