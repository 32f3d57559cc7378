// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";
import {ISm2KeyRegistry, Sm2Key} from "./interfaces/ISm2KeyRegistry.sol";

/// @title SM2 public keys of the departments
/// @notice Deployed by {DocumentRegistry}, whose departments hold the keys, with the same
/// governance: GOVERNOR_ROLE (the council's time lock) adds keys and backdates retirements,
/// GUARDIAN_ROLE (the council) or GOVERNOR_ROLE retires a key from now on.
contract Sm2KeyRegistry is AccessControl, ISm2KeyRegistry {
    using EnumerableSet for EnumerableSet.Bytes32Set;

    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Live keys per department.
    uint256 public constant MAX_KEYS = 8;

    /// @dev The curve of GB/T 32918.5: y² = x³ + a·x + b over F_p, a = p - 3.
    uint256 private constant _P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF;
    uint256 private constant _A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC;
    uint256 private constant _B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93;

    address private immutable _issuerRegistry;

    mapping(bytes32 keyId => Sm2Key) private _keys;
    mapping(bytes32 department => bytes32[]) private _keysOf;
    mapping(bytes32 department => EnumerableSet.Bytes32Set) private _liveKeys;

    /// @param admin holder of DEFAULT_ADMIN_ROLE (the council's time lock)
    /// @param governor holder of GOVERNOR_ROLE (the council's time lock)
    /// @param guardian holder of GUARDIAN_ROLE (the council)
    /// @param issuerRegistry_ the registry of the departments (the DocumentRegistry)
    constructor(address admin, address governor, address guardian, address issuerRegistry_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, governor);
        _grantRole(GUARDIAN_ROLE, guardian);
        _issuerRegistry = issuerRegistry_;
    }

    /// @inheritdoc ISm2KeyRegistry
    function addSm2Key(bytes32 department, bytes32 x, bytes32 y, uint40 validFrom, uint40 validUntil)
        external
        onlyRole(GOVERNOR_ROLE)
    {
        IIssuerRegistry(_issuerRegistry).getDepartment(department); // reverts for an unknown one
        if (!_onCurve(uint256(x), uint256(y))) revert Sm2KeyRegistryInvalidKey(x, y);
        bytes32 keyId = keccak256(abi.encodePacked(x, y));
        bytes32 existing = _keys[keyId].department;
        if (existing != bytes32(0)) revert Sm2KeyRegistryKeyExists(keyId, existing);
        if (validUntil != 0 && validUntil <= validFrom) {
            revert Sm2KeyRegistryInvalidKeyWindow(keyId, validFrom, validUntil);
        }
        EnumerableSet.Bytes32Set storage live = _liveKeys[department];
        _pruneExpiredKeys(live);
        if (live.length() >= MAX_KEYS) revert Sm2KeyRegistryTooManyKeys(department, MAX_KEYS);
        _keys[keyId] = Sm2Key({department: department, validFrom: validFrom, validUntil: validUntil, x: x, y: y});
        _keysOf[department].push(keyId);
        live.add(keyId);
        emit Sm2KeyAdded(department, keyId, x, y, validFrom, validUntil);
    }

    /// @inheritdoc ISm2KeyRegistry
    function retireSm2Key(bytes32 keyId, uint40 validUntil) external {
        uint40 at = _now();
        // 0: from this very block, whenever the proposal runs (an emergency retirement).
        if (validUntil == 0) validUntil = at;
        // Backdated, it voids what the key signed since: that waits out the time lock.
        if (validUntil < at) {
            _checkRole(GOVERNOR_ROLE);
        } else if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(GOVERNOR_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GUARDIAN_ROLE);
        }
        Sm2Key storage key = _keys[keyId];
        bytes32 department = key.department;
        if (department == bytes32(0)) revert Sm2KeyRegistryUnknownKey(keyId);
        if (validUntil <= key.validFrom || (key.validUntil != 0 && validUntil >= key.validUntil)) {
            revert Sm2KeyRegistryInvalidKeyWindow(keyId, key.validFrom, validUntil);
        }
        key.validUntil = validUntil;
        if (validUntil <= at) _liveKeys[department].remove(keyId);
        emit Sm2KeyRetired(department, keyId, validUntil);
    }

    /// @inheritdoc ISm2KeyRegistry
    function getSm2Key(bytes32 keyId) external view returns (Sm2Key memory key) {
        key = _keys[keyId];
        if (key.department == bytes32(0)) revert Sm2KeyRegistryUnknownKey(keyId);
    }

    /// @inheritdoc ISm2KeyRegistry
    function sm2KeysOf(bytes32 department) external view returns (bytes32[] memory) {
        return _keysOf[department];
    }

    /// @inheritdoc ISm2KeyRegistry
    function issuerRegistry() external view returns (address) {
        return _issuerRegistry;
    }

    function _now() private view returns (uint40) {
        return uint40(block.timestamp);
    }

    /// @dev Whether (x, y) is an affine point of the curve (the point at infinity has none).
    function _onCurve(uint256 x, uint256 y) private pure returns (bool) {
        if (x >= _P || y >= _P) return false;
        uint256 rhs = addmod(addmod(mulmod(mulmod(x, x, _P), x, _P), mulmod(_A, x, _P), _P), _B, _P);
        return mulmod(y, y, _P) == rhs;
    }

    /// @dev Drops keys whose window has ended from the live set.
    function _pruneExpiredKeys(EnumerableSet.Bytes32Set storage live) private {
        uint40 at = _now();
        for (uint256 i = live.length(); i > 0; --i) {
            bytes32 keyId = live.at(i - 1);
            uint40 until = _keys[keyId].validUntil;
            if (until != 0 && until <= at) live.remove(keyId);
        }
    }
}
