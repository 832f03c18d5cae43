// Saving and loading a module's named parameters and buffers as a .npz archive (numpy.load
// reads it; files from numpy.savez and numpy.savez_compressed load).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

/// @brief (key, array) pairs in file order, as numpy.load(path) lists them.
using NamedArrays = std::vector<std::pair<std::string, array>>;

/// @brief The bytes of a .npz archive of the arrays, as save_npz writes them: a zip of stored
/// (uncompressed) entries "key.npy", each an NPY version 1.0 file of dtype '<f8' (little-endian
/// float64), C order, its header padded to 64 bytes, with the CRC-32 of each entry (zlib), the
/// date 1980-01-01 (equal arrays give equal bytes). For writing several files at once with
/// xgrad::write_files_atomically (xgrad/data/io.hpp): `write_files_atomically({{"a.npz",
/// npz_bytes(a)}, {"b.npz", npz_bytes(b)}})`.
/// @throw std::invalid_argument for an empty key ("npz_bytes: an array has an empty key") or one
/// given twice ("npz_bytes: key 'a' is given twice"); std::runtime_error for an archive beyond
/// the plain zip limits (65 535 entries, 4 GiB; no Zip64).
std::string npz_bytes(const NamedArrays& arrays);

/// @brief Writes npz_bytes(arrays) to `path` with xgrad::write_file_atomically (xgrad/data/
/// io.hpp): through a temporary in the same folder (unnamed where the file system allows it),
/// flushed to disk (fsync) and renamed over `path`; on any failure no temporary is left and an
/// existing file at `path` keeps its bytes. numpy.load(path)[key] returns the array. The file
/// gets mode 0666 less the umask; a replaced file keeps its mode.
/// @throw std::invalid_argument for an empty key or one given twice (before anything is
/// written: "save: 'x.npz': key 'a' is given twice"); std::runtime_error naming the file for an
/// I/O failure ("save: 'dir/x.npz': cannot create: No such file or directory", "save:
/// 'x.npz': cannot write: File too large", "... cannot rename into place: Is a directory") or an
/// archive beyond the plain zip limits. Paths in messages go through xgrad::escaped.
void save_npz(const std::string& path, const NamedArrays& arrays);

/// @brief Reads every array of a .npz archive (or of a zip of .npy entries). Entries may be
/// stored or deflated (numpy.savez_compressed); each must be an NPY file (versions 1.0 to 3.0)
/// of dtype float64, '<f8' or '>f8', in C or Fortran order (returned in C order). The key is the
/// entry's name without ".npy". Nothing is returned unless every entry checks out.
/// @throw std::runtime_error naming the file, and the entry where there is one, for a missing
/// or unreadable file ("load: cannot open 'x.npz': No such file or directory"), a file that is
/// not a zip archive, a truncated one ("truncated zip archive (no end-of-central-directory
/// record)" for a file that starts as a zip but lost its end) or an inconsistent one, an encrypted
/// entry or an unsupported compression method, a CRC-32 mismatch ("load: 'x.npz', entry
/// '0.weight.npy': CRC-32 mismatch (stored 0x..., computed 0x...): the file is corrupt"), an entry
/// that is not an NPY file, a dtype other than float64 ("... dtype '<i8' is not float64 ('<f8')"),
/// data of the wrong length, or a key given twice; Zip64 end records (over 65 535 entries) are
/// refused. Paths in messages go through xgrad::escaped and names from the file through quote_text,
/// so a message is one line whatever bytes they hold.
NamedArrays load_npz(const std::string& path);

/// @brief The module's state: named_parameters() then named_buffers(), (name, value copy)
/// pairs in that order ("0.weight", "0.bias", ..., "1.running_mean", ...).
NamedArrays state_dict(const Module& module);

/// @brief Saves state_dict(module) to `path` with save_npz (atomically; same errors). The
/// weights of nn::Linear are stored as xgrad holds them, (in, out): the transpose of a torch
/// Linear's weight.
void save(const Module& module, const std::string& path);

/// @brief Loads a file written by save (or any .npz with the same keys, shapes and dtype) into
/// the module's parameters and buffers (written through Var::mutable_value: graphs built before
/// must run forward again). Nothing is modified unless the whole file checks out: every error
/// of load_npz, and, all listed in one message naming the file, every key the module has that
/// the file lacks ("load: 'x.npz': missing key '1.running_var'"), every key the file has that
/// the module lacks ("unexpected key 'extra'"), and every shape mismatch ("key '0.weight' has
/// shape (3,2) in the file but (2,3) in the module"); past the first five problems the message
/// ends "; … and N more".
/// @throw std::runtime_error as described.
void load(Module& module, const std::string& path);

}  // namespace xgrad::nn
