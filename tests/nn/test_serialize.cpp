/***************************************************************************
 * xgrad: save/load of modules as .npz: bit-exact round trips, archives     *
 * written by numpy, every load error with its message, atomic writes.      *
 ***************************************************************************/
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "reference/nn_torch.hpp"
#include "support.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/nn/activations.hpp"
#include "xgrad/nn/layers.hpp"
#include "xgrad/nn/normalization.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/nn/serialize.hpp"

namespace xgrad {
namespace {

namespace fs = std::filesystem;
namespace ref = reference::nn_torch;

/// @brief A fresh empty folder under the system's temporary folder, removed at the end.
class TempDir {
  public:
    TempDir() {
        std::string name = (fs::temp_directory_path() / "xgrad-serialize-XXXXXX").string();
        if (::mkdtemp(name.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = name;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    /// @brief The names of the files in the folder.
    std::vector<std::string> listing() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(path_)) {
            names.push_back(entry.path().filename().string());
        }
        std::sort(names.begin(), names.end());
        return names;
    }

  private:
    fs::path path_;
};

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
    write_bytes(path, std::string(bytes.begin(), bytes.end()));
}

/// @brief Linear(3, 4), BatchNorm1d(4), ReLU, Linear(4, 2), seeded.
std::unique_ptr<nn::Sequential> small_network(std::uint64_t seed) {
    auto net = std::make_unique<nn::Sequential>();
    net->add<nn::Linear>(3, 4, seed);
    net->add<nn::BatchNorm1d>(4);
    net->add<nn::ReLU>();
    net->add<nn::Linear>(4, 2, seed + 1);
    return net;
}

/// @brief Trains the batch norm's statistics and moves every parameter, so that nothing is at
/// its initial value.
void disturb(nn::Sequential& net, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int k = 0; k < 3; ++k) net(constant(testing::random_array(rng, {8, 3}, -2.0, 3.0)));
    for (const Var& p : net.parameters())
        p.mutable_value() += testing::random_array(rng, p.shape());
}

/// @brief Expects both modules' named parameters and buffers to be bit for bit equal.
void expect_same_state(const nn::Module& a, const nn::Module& b) {
    const nn::NamedArrays sa = nn::state_dict(a), sb = nn::state_dict(b);
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t k = 0; k < sa.size(); ++k) {
        EXPECT_EQ(sa[k].first, sb[k].first);
        EXPECT_EQ(sa[k].second.shape(), sb[k].second.shape()) << sa[k].first;
        EXPECT_EQ(sa[k].second, sb[k].second) << sa[k].first;
    }
}

TEST(Serialize, SaveThenLoadIsBitExact) {
    TempDir dir;
    auto saved = small_network(1);
    disturb(*saved, 2);
    const std::string path = dir.file("net.npz");
    nn::save(*saved, path);
    EXPECT_EQ(dir.listing(), std::vector<std::string>{"net.npz"});  // no temporary left

    auto loaded = small_network(10);  // other weights, fresh statistics
    const nn::NamedArrays before = nn::state_dict(*loaded);
    EXPECT_NE(before[0].second, nn::state_dict(*saved)[0].second);
    nn::load(*loaded, path);
    expect_same_state(*saved, *loaded);
    const auto& bn = dynamic_cast<const nn::BatchNorm&>(*loaded->modules()[1]);
    EXPECT_EQ(bn.num_batches_tracked().item(), 3.0);
    // the loaded network computes what the saved one does, in eval mode
    saved->eval();
    loaded->eval();
    const Var x = constant(array{{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}});
    EXPECT_EQ(saved->forward(x).value(), loaded->forward(x).value());

    // the file lists the state in order, every array as float64 '<f8', and saving the same
    // state again gives the same bytes (the zip's dates are fixed)
    const nn::NamedArrays file = nn::load_npz(path);
    const nn::NamedArrays state = nn::state_dict(*saved);
    ASSERT_EQ(file.size(), 9u);  // 6 parameters (two Linear, the batch norm), 3 buffers
    for (std::size_t k = 0; k < file.size(); ++k) EXPECT_EQ(file[k].first, state[k].first);
    EXPECT_EQ(file[0].first, "0.weight");
    EXPECT_EQ(file[5].first, "3.bias");
    EXPECT_EQ(file[6].first, "1.running_mean");
    EXPECT_EQ(file[8].first, "1.num_batches_tracked");
    EXPECT_EQ(file[8].second.shape(), shape_type{});
    const std::string bytes = read_bytes(path);
    nn::save(*saved, dir.file("again.npz"));
    EXPECT_EQ(read_bytes(dir.file("again.npz")), bytes);
    // NPY version 1.0 headers, as numpy writes them, padded so that the data starts at 64 bytes
    const std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }";
    const std::size_t at = bytes.find(header);
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(bytes.substr(at - 10, 8), std::string("\x93NUMPY\x01\x00", 8));
    EXPECT_NE(bytes.find("'shape': (4,), }"), std::string::npos);
    EXPECT_NE(bytes.find("'shape': (), }"), std::string::npos);
    const auto header_length = static_cast<unsigned char>(bytes[at - 2]) +
                               256u * static_cast<unsigned char>(bytes[at - 1]);
    EXPECT_EQ((10 + header_length) % 64, 0u);
    EXPECT_EQ(bytes[at + header_length - 1], '\n');
}

TEST(Serialize, ANewFileHasTheUmasksModeAndAnEmptyModuleSavesAnEmptyArchive) {
    // written by write_file_atomically (xgrad/data/io.hpp): a new file is made with mode 0666
    // less the umask; a replaced file keeps its own (tests/data/test_io.cpp)
    TempDir dir;
    const std::string path = dir.file("state.npz");
    nn::Sequential empty;
    empty.add<nn::ReLU>();
    const mode_t old_mask = ::umask(022);
    nn::save(empty, path);
    ::umask(old_mask);
    EXPECT_TRUE(nn::load_npz(path).empty());
    nn::load(empty, path);
    EXPECT_EQ(fs::status(path).permissions(), fs::perms::owner_read | fs::perms::owner_write |
                                                  fs::perms::group_read | fs::perms::others_read);
    auto net = small_network(3);
    nn::save(*net, path);
    EXPECT_EQ(nn::load_npz(path).size(), 9u);
}

TEST(Serialize, NpzBytesAreTheFileSaveWritesForWritingSeveralFilesAtOnce) {
    TempDir dir;
    const nn::NamedArrays first = nn::state_dict(*small_network(1));
    const nn::NamedArrays second = {{"a", array{1.0, 2.0}}, {"b", array(3.0)}};
    const std::string saved = dir.file("saved.npz");
    nn::save_npz(saved, first);
    EXPECT_EQ(nn::npz_bytes(first), read_bytes(saved));
    // two archives, written together: each atomically, both or neither
    const std::string one = dir.file("one.npz"), two = dir.file("two.npz");
    write_files_atomically({{one, nn::npz_bytes(first)}, {two, nn::npz_bytes(second)}});
    EXPECT_EQ(read_bytes(one), read_bytes(saved));
    const nn::NamedArrays back = nn::load_npz(two);
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[0].first, "a");
    EXPECT_EQ(back[0].second, (array{1.0, 2.0}));
    EXPECT_EQ(back[1].second, array(3.0));
    EXPECT_EQ(nn::npz_bytes({}), std::string("PK\x05\x06", 4) + std::string(18, '\0'));
    XGRAD_EXPECT_THROW_WITH(nn::npz_bytes({{"a", array{1.0}}, {"a", array{2.0}}}),
                            std::invalid_argument, "npz_bytes: key 'a' is given twice");
    XGRAD_EXPECT_THROW_WITH(nn::npz_bytes({{"", array{1.0}}}), std::invalid_argument,
                            "npz_bytes: an array has an empty key");
}

/// @brief Sequential(Linear(3, 2), BatchNorm1d(2)): the model of the numpy-written archives.
std::unique_ptr<nn::Sequential> numpy_model() {
    auto net = std::make_unique<nn::Sequential>();
    net->add<nn::Linear>(3, 2, 5);
    net->add<nn::BatchNorm1d>(2);
    return net;
}

TEST(Serialize, LoadsArchivesWrittenByNumpySavezAndSavezCompressed) {
    TempDir dir;
    for (const auto* bytes : {&ref::savez, &ref::savez_compressed}) {
        SCOPED_TRACE(bytes == &ref::savez ? "np.savez" : "np.savez_compressed");
        const std::string path = dir.file("numpy.npz");
        write_bytes(path, *bytes);
        auto net = numpy_model();
        nn::load(*net, path);
        const nn::NamedArrays state = nn::state_dict(*net);
        ASSERT_EQ(state.size(), ref::state_keys.size());
        const nn::NamedArrays file = nn::load_npz(path);
        for (std::size_t k = 0; k < state.size(); ++k) {
            EXPECT_EQ(file[k].first, ref::state_keys[k]);
            const auto found = std::find_if(state.begin(), state.end(), [&](const auto& entry) {
                return entry.first == ref::state_keys[k];
            });
            ASSERT_NE(found, state.end()) << ref::state_keys[k];
            const std::vector<double> values(found->second.begin(), found->second.end());
            EXPECT_EQ(values, ref::state_values[k]) << ref::state_keys[k];
        }
        EXPECT_EQ(
            dynamic_cast<const nn::BatchNorm&>(*net->modules()[1]).num_batches_tracked().item(),
            7.0);
    }
    // Fortran order and big-endian float64 are read too, in C order
    const std::string path = dir.file("layouts.npz");
    write_bytes(path, ref::layouts);
    const nn::NamedArrays layouts = nn::load_npz(path);
    ASSERT_EQ(layouts.size(), 2u);
    EXPECT_EQ(layouts[0].first, "fortran");
    EXPECT_EQ(layouts[0].second.shape(), (shape_type{3, 4}));
    EXPECT_EQ(std::vector<double>(layouts[0].second.begin(), layouts[0].second.end()),
              ref::fortran);
    EXPECT_EQ(layouts[1].first, "big_endian");
    EXPECT_EQ(layouts[1].second.shape(), (shape_type{2, 3}));
    EXPECT_EQ(std::vector<double>(layouts[1].second.begin(), layouts[1].second.end()),
              ref::big_endian);
}

TEST(Serialize, LoadErrorsNameTheFileTheEntryAndTheKey) {
    TempDir dir;
    auto net = small_network(4);
    const std::string good = dir.file("good.npz");
    nn::save(*net, good);
    const std::string bytes = read_bytes(good);
    const nn::NamedArrays untouched = nn::state_dict(*net);
    auto expect_untouched = [&] {
        const nn::NamedArrays now = nn::state_dict(*net);
        for (std::size_t k = 0; k < now.size(); ++k) EXPECT_EQ(now[k].second, untouched[k].second);
    };

    const std::string missing = dir.file("missing.npz");
    XGRAD_EXPECT_THROW_WITH(nn::load(*net, missing), std::runtime_error,
                            "load: cannot open '" + missing + "': No such file or directory");
    const std::string text = dir.file("text.npz");
    write_bytes(text, std::string("weights,1,2,3\n"));
    XGRAD_EXPECT_THROW_WITH(
        nn::load(*net, text), std::runtime_error,
        "load: '" + text + "': not a zip archive (no end-of-central-directory record)");
    const std::string empty_file = dir.file("empty.npz");
    write_bytes(empty_file, std::string());
    XGRAD_EXPECT_THROW_WITH(nn::load(*net, empty_file), std::runtime_error, "not a zip archive");
    // cut short: the end record is gone
    const std::string cut = dir.file("cut.npz");
    write_bytes(cut, bytes.substr(0, bytes.size() / 2));
    XGRAD_EXPECT_THROW_WITH(
        nn::load(*net, cut), std::runtime_error,
        "load: '" + cut + "': truncated zip archive (no end-of-central-directory record)");
    // the central directory kept but the first entry's data cut out
    const std::string hollow = dir.file("hollow.npz");
    std::string shifted = bytes;
    shifted.erase(100, 200);
    write_bytes(hollow, shifted);
    XGRAD_EXPECT_THROW_WITH(nn::load(*net, hollow), std::runtime_error, "load: '" + hollow + "'");
    // one data byte of the first array changed: its CRC-32 no longer matches
    const std::string corrupt = dir.file("corrupt.npz");
    std::string flipped = bytes;
    flipped[30 + 12 + 128 + 3] ^= 0x10;  // local header, "0.weight.npy", NPY header, data
    write_bytes(corrupt, flipped);
    XGRAD_EXPECT_THROW_WITH(nn::load(*net, corrupt), std::runtime_error,
                            "load: '" + corrupt + "', entry '0.weight.npy': CRC-32 mismatch");
    XGRAD_EXPECT_THROW_WITH(nn::load(*net, corrupt), std::runtime_error, "the file is corrupt");
    // zip archives of Python's zipfile: an entry that is not NPY, an unsupported compression
    const std::string not_npy = dir.file("not_npy.npz");
    write_bytes(not_npy, ref::not_npy);
    XGRAD_EXPECT_THROW_WITH(
        nn::load(*net, not_npy), std::runtime_error,
        "load: '" + not_npy + "', entry 'weights.npy': not an NPY array (no \\x93NUMPY magic)");
    const std::string bzip2 = dir.file("bzip2.npz");
    write_bytes(bzip2, ref::bzip2);
    XGRAD_EXPECT_THROW_WITH(nn::load(*net, bzip2), std::runtime_error,
                            "entry 'weights.npy': compression method 12 is not supported");
    // a numpy archive of int64
    const std::string integers = dir.file("integers.npz");
    write_bytes(integers, ref::integers);
    XGRAD_EXPECT_THROW_WITH(
        nn::load(*net, integers), std::runtime_error,
        "load: '" + integers + "', entry 'counts.npy': dtype '<i8' is not float64 ('<f8')");
    expect_untouched();

    // keys: missing, unexpected and of another shape, all in one message
    nn::NamedArrays other = untouched;
    ASSERT_EQ(other[7].first, "1.running_var");
    other.erase(other.begin() + 7);
    other[0].second = xt::zeros<double>({4, 3});          // 0.weight is (3, 4)
    other.emplace_back("extra", xt::zeros<double>({2}));  // not in the module
    const std::string keys = dir.file("keys.npz");
    nn::save_npz(keys, other);
    XGRAD_EXPECT_THROW_WITH(nn::load(*net, keys), std::runtime_error,
                            "load: '" + keys +
                                "': key '0.weight' has shape (4,3) in the file but (3,4) in the "
                                "module; missing key '1.running_var'; unexpected key 'extra'");
    expect_untouched();
    // a file saved from another architecture
    const std::string mlp = dir.file("mlp.npz");
    nn::save(nn::MLP({3, 4, 2}, nn::Activation::relu, 1), mlp);
    XGRAD_EXPECT_THROW_WITH(nn::load(*net, mlp), std::runtime_error,
                            "missing key '1.weight'; missing key '1.bias'");
    expect_untouched();
}

TEST(Serialize, NamesFromTheFileAreEscapedInMessages) {
    // An entry named with control bytes (found by fuzz/fuzz_npz.cpp: "0.bias.n\x01y" in a CRC
    // error) is quoted with the bytes escaped: a message is one line of printable text.
    TempDir dir;
    const std::string path = dir.file("odd.npz");
    nn::save_npz(path, {{std::string("bad\x01\nkey\x1b[31m"), xt::zeros<double>({2})}});
    nn::Sequential net;  // no keys: the file's one key is the only problem
    net.add<nn::ReLU>();
    try {
        nn::load(net, path);
        FAIL() << "load accepted an unexpected key";
    } catch (const std::runtime_error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("unexpected key 'bad\\x01\\nkey\\x1b[31m'"), std::string::npos)
            << message;
        for (unsigned char c : message) EXPECT_GE(c, 0x20) << message;
    }
}

TEST(Serialize, PathsAreEscapedAndLongListsOfKeysAreCut) {
    // a path with a newline and an escape byte stays one line, in load's and save's messages
    TempDir dir;
    const std::string odd = dir.file("two\nlines\x1b.npz");
    const std::string shown = dir.file("two\\nlines\\x1b.npz");
    auto net = small_network(4);
    XGRAD_EXPECT_THROW_WITH(nn::load(*net, odd), std::runtime_error,
                            "load: cannot open '" + shown + "': No such file or directory");
    write_bytes(odd, std::string("weights,1,2,3\n"));
    XGRAD_EXPECT_THROW_WITH(
        nn::load(*net, odd), std::runtime_error,
        "load: '" + shown + "': not a zip archive (no end-of-central-directory record)");
    nn::save_npz(odd, {{"extra", array{1.0}}});
    XGRAD_EXPECT_THROW_WITH(nn::load(*net, odd), std::runtime_error,
                            "load: '" + shown + "': missing key '0.weight'");
    XGRAD_EXPECT_THROW_WITH(nn::save_npz(odd, {{"a", array{1.0}}, {"a", array{2.0}}}),
                            std::invalid_argument, "save: '" + shown + "': key 'a' is given twice");
    XGRAD_EXPECT_THROW_WITH(nn::save_npz(odd, {{"a\n", array{1.0}}, {"a\n", array{2.0}}}),
                            std::invalid_argument, "key 'a\\n' is given twice");

    // more than five problems: the first five, then how many more
    const std::string empty = dir.file("empty.npz");
    nn::save_npz(empty, {});
    nn::MLP mlp({3, 4, 4, 4, 2}, nn::Activation::relu, 1);  // 8 parameters
    XGRAD_EXPECT_THROW_WITH(nn::load(mlp, empty), std::runtime_error,
                            "load: '" + empty +
                                "': missing key '0.weight'; missing key '0.bias'; missing key "
                                "'2.weight'; missing key '2.bias'; missing key '4.weight'; \u2026 "
                                "and 3 more");
    // exactly five are all listed
    nn::MLP five({3, 4, 4, 2}, nn::Activation::relu, 1);  // 6 parameters
    nn::NamedArrays one = {nn::state_dict(five)[0]};
    const std::string path = dir.file("one.npz");
    nn::save_npz(path, one);
    try {
        nn::load(five, path);
        FAIL() << "load accepted a file missing five keys";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), "load: '" + path +
                                             "': missing key '0.bias'; missing key '2.weight'; "
                                             "missing key '2.bias'; missing key '4.weight'; "
                                             "missing key '4.bias'");
    }
}

TEST(Serialize, ADeflatedEntryClaimingMoreThanDeflateCanExpandIsRefusedUnallocated) {
    // fuzz/fuzz_npz.cpp made a 600-byte archive claim 2 GiB of inflated data, which load_npz
    // allocated before inflating: the stated size is now checked against deflate's 1032:1 limit
    TempDir dir;
    std::vector<unsigned char> bytes = ref::savez_compressed;
    const unsigned char central[] = {80, 75, 1, 2};
    const auto record = std::search(bytes.begin(), bytes.end(), central, central + 4);
    ASSERT_NE(record, bytes.end());
    const std::size_t at = static_cast<std::size_t>(record - bytes.begin()) + 24;  // uncompressed
    bytes[at] = 0, bytes[at + 1] = 0, bytes[at + 2] = 0, bytes[at + 3] = 0x80;     // 2^31
    const std::string path = dir.file("claims.npz");
    write_bytes(path, bytes);
    XGRAD_EXPECT_THROW_WITH(nn::load_npz(path), std::runtime_error,
                            "entry '0.weight.npy': stated size 2147483648 is more than deflate "
                            "can expand 122 compressed bytes to");
}

/// @brief `bytes` with a Zip64 extra field (id 1) giving `offset` as the first central-directory
/// entry's local header offset: the 32-bit field set to 0xFFFFFFFF, the 12 bytes inserted after
/// the name, the entry's extra length and the end record's directory size grown by 12.
std::string with_zip64_offset(std::string bytes, std::uint64_t offset) {
    const std::size_t c = bytes.find(std::string("PK\x01\x02", 4));
    if (c == std::string::npos) throw std::runtime_error("no central directory entry");
    const std::size_t name_length = static_cast<unsigned char>(bytes[c + 28]) +
                                    256u * static_cast<unsigned char>(bytes[c + 29]);
    if (bytes[c + 30] != 0 || bytes[c + 31] != 0) throw std::runtime_error("an extra field");
    bytes[c + 30] = 12;
    for (std::size_t k = 0; k < 4; ++k) bytes[c + 42 + k] = '\xff';
    std::string extra("\x01\x00\x08\x00", 4);
    for (int k = 0; k < 8; ++k) extra.push_back(static_cast<char>((offset >> (8 * k)) & 0xFF));
    bytes.insert(c + 46 + name_length, extra);
    const std::size_t e = bytes.rfind(std::string("PK\x05\x06", 4));
    if (e == std::string::npos) throw std::runtime_error("no end record");
    const std::size_t size = static_cast<unsigned char>(bytes[e + 12]) +
                             256u * static_cast<unsigned char>(bytes[e + 13]) + 12;
    if (size > 0xFFFF) throw std::runtime_error("a large directory");
    bytes[e + 12] = static_cast<char>(size & 0xFF);
    bytes[e + 13] = static_cast<char>(size >> 8);
    return bytes;
}

TEST(Serialize, AZip64OffsetThatWrapsAroundIsRefusedWithoutReadingOutsideTheFile) {
    // A Zip64 extra field may give a 64-bit local header offset: 2^64 - 16 made `offset + 30`
    // wrap to 14, pass the bounds check, and the signature was read 16 bytes before the buffer.
    // Every bounds check is now a subtraction from the file size, which cannot wrap.
    TempDir dir;
    const std::string good = dir.file("good.npz");
    nn::save_npz(good, {{"a", array{1.0, 2.0}}});
    const std::string bytes = read_bytes(good);
    const std::string path = dir.file("wraps.npz");
    const std::uint64_t n = bytes.size() + 12;  // the patched file's size
    for (const std::uint64_t offset :
         {std::uint64_t{0xFFFFFFFFFFFFFFF0u}, std::uint64_t{0xFFFFFFFFFFFFFFFFu}, n - 29, n}) {
        SCOPED_TRACE(offset);
        const std::string patched = with_zip64_offset(bytes, offset);
        write_bytes(path, patched);
        XGRAD_EXPECT_THROW_WITH(nn::load_npz(path), std::runtime_error,
                                "load: '" + path +
                                    "', entry 'a.npy': its local header (at offset " +
                                    std::to_string(offset) + ") runs past the end of the " +
                                    std::to_string(patched.size()) + "-byte file (the file is " +
                                    "truncated or corrupt)");
    }
    // the same field with the true offset 0 loads
    write_bytes(path, with_zip64_offset(bytes, 0));
    const nn::NamedArrays back = nn::load_npz(path);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].second, (array{1.0, 2.0}));
}

TEST(Serialize, AFailedSaveLeavesTheOldFileAndNoTemporary) {
    TempDir dir;
    // a folder that does not exist: nothing can be created
    const std::string nowhere = dir.file("no/such/folder/net.npz");
    XGRAD_EXPECT_THROW_WITH(nn::save(*small_network(1), nowhere), std::runtime_error,
                            "save: '" + nowhere + "': cannot create: No such file or directory");
    EXPECT_TRUE(dir.listing().empty());

    // a write that fails half way (the file-size limit, as a full disk would): the old file
    // keeps its bytes and the temporary file is removed
    const std::string path = dir.file("net.npz");
    nn::save(*small_network(1), path);
    const std::string old = read_bytes(path);
    nn::Sequential big;
    big.add<nn::Linear>(100, 100, 1);  // 80 KB of weights
    rlimit saved_limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved_limit), 0);
    rlimit small_limit = saved_limit;
    small_limit.rlim_cur = 16384;
    const auto previous = ::signal(SIGXFSZ, SIG_IGN);  // write() fails with EFBIG instead
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small_limit), 0);
    std::string message;
    try {
        nn::save(big, path);
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved_limit);
    ::signal(SIGXFSZ, previous);
    EXPECT_EQ(message, "save: '" + path + "': cannot write: File too large");
    EXPECT_EQ(read_bytes(path), old);
    EXPECT_EQ(dir.listing(), std::vector<std::string>{"net.npz"});

    // the target is a folder: the rename fails, the folder and its content stay
    const std::string folder = dir.file("folder.npz");
    fs::create_directory(folder);
    write_bytes(folder + "/inside", std::string("x"));
    XGRAD_EXPECT_THROW_WITH(nn::save(*small_network(1), folder), std::runtime_error,
                            "save: '" + folder + "': cannot rename into place: Is a directory");
    EXPECT_TRUE(fs::is_directory(folder));
    EXPECT_EQ(read_bytes(folder + "/inside"), "x");
    EXPECT_EQ(dir.listing(), (std::vector<std::string>{"folder.npz", "net.npz"}));

    // keys that cannot be written are refused before anything is created
    const std::string twice = dir.file("twice.npz");
    XGRAD_EXPECT_THROW_WITH(nn::save_npz(twice, {{"a", array{1.0}}, {"a", array{2.0}}}),
                            std::invalid_argument, "save: '" + twice + "': key 'a' is given twice");
    XGRAD_EXPECT_THROW_WITH(nn::save_npz(twice, {{"", array{1.0}}}), std::invalid_argument,
                            "an array has an empty key");
    EXPECT_FALSE(fs::exists(twice));
}

TEST(Serialize, ArraysOfAnyRankRoundTrip) {
    TempDir dir;
    std::mt19937_64 rng(12);
    nn::NamedArrays arrays = {
        {"scalar", array(3.25)},
        {"empty", xt::zeros<double>({0, 3})},
        {"four_d", testing::random_array(rng, {2, 3, 1, 4})},
        {"special", array{0.0, -0.0, 1e308, 5e-324, std::numeric_limits<double>::infinity(),
                          std::numeric_limits<double>::quiet_NaN()}},
        {"folder/name with spaces", array{1.0}}};
    const std::string path = dir.file("any.npz");
    nn::save_npz(path, arrays);
    const nn::NamedArrays back = nn::load_npz(path);
    ASSERT_EQ(back.size(), arrays.size());
    for (std::size_t k = 0; k < arrays.size(); ++k) {
        EXPECT_EQ(back[k].first, arrays[k].first);
        EXPECT_EQ(back[k].second.shape(), arrays[k].second.shape());
        if (arrays[k].second.size() == 0) continue;  // an empty array's data() may be null
        EXPECT_EQ(std::memcmp(back[k].second.data(), arrays[k].second.data(),
                              8 * arrays[k].second.size()),
                  0)
            << arrays[k].first;  // bit for bit: -0, the subnormal and the NaN too
    }
}

}  // namespace
}  // namespace xgrad
