/***************************************************************************
 * xgrad: one rank's share of a CSV file (read_table_shard): the shards of  *
 * a file, one after another, are read_table's table; errors are its        *
 * errors; memory stays near one shard. Counts bytes through a replaced     *
 * operator new.                                                            *
 ***************************************************************************/
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "support.hpp"
#include "xgrad/data/csv.hpp"

namespace {

std::atomic<long long> live_bytes{0};  // allocated through operator new and not yet freed
std::atomic<long long> peak_bytes{0};  // the most live_bytes has been since the last reset

void* counted_alloc(std::size_t size) {
    void* p = std::malloc(size == 0 ? 1 : size);
    if (p == nullptr) throw std::bad_alloc();
    const long long now = live_bytes += static_cast<long long>(malloc_usable_size(p));
    long long peak = peak_bytes.load();
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
    }
    return p;
}

void counted_free(void* p) noexcept {
    if (p == nullptr) return;
    live_bytes -= static_cast<long long>(malloc_usable_size(p));
    std::free(p);
}

}  // namespace

#include "replace_new.hpp"  // operator new and delete through counted_alloc/counted_free

namespace xgrad {
namespace {

using data::csv_error;
using data::read_table;
using data::read_table_shard;
using data::Table;
using data::TableShard;

constexpr std::size_t npos = Table::npos;
constexpr std::size_t default_block = std::size_t{1} << 20;

/// @brief Writes `text` to a temporary file named after the test and `name`, removed at scope
/// exit.
class TempCsv {
  public:
    TempCsv(const std::string& name, const std::string& text)
        : path_(::testing::TempDir() + "xgrad_shard_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + name +
                ".csv") {
        std::ofstream(path_, std::ios::binary) << text;
    }
    ~TempCsv() { std::remove(path_.c_str()); }
    TempCsv(const TempCsv&) = delete;
    TempCsv& operator=(const TempCsv&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

/// @brief Sets read_table_shard's block size for a scope.
class BlockSize {
  public:
    explicit BlockSize(std::size_t bytes) : old_(data::detail::set_shard_block_bytes(bytes)) {}
    ~BlockSize() { data::detail::set_shard_block_bytes(old_); }
    BlockSize(const BlockSize&) = delete;
    BlockSize& operator=(const BlockSize&) = delete;

  private:
    std::size_t old_;
};

/// @brief The message of the csv_error `read` throws ("" if it throws none).
std::string csv_error_of(const std::function<void()>& read) {
    try {
        read();
    } catch (const csv_error& e) {
        return e.what();
    }
    return "";
}

/// @brief Reads `path` whole and as `shards` shards, and checks that the shards, one after
/// another, are the whole table: header, cells, row lines, spanning rows and where() strings;
/// that first_row and total_rows are right and that the shards' sizes are balanced to one row.
/// where() is compared on every `where_every`-th row and on each shard's first and last (it
/// builds a string: the large file's rows are many).
void expect_shards_make_the_table(const std::string& path, std::size_t shards,
                                  std::size_t where_every = 1) {
    SCOPED_TRACE("shards = " + std::to_string(shards));
    const Table whole = read_table(path);
    const std::size_t rows = whole.rows();
    std::size_t next = 0;
    std::size_t smallest = npos;
    std::size_t largest = 0;
    for (std::size_t s = 0; s < shards; ++s) {
        SCOPED_TRACE("shard " + std::to_string(s));
        const TableShard part = read_table_shard(path, s, shards);
        const Table& t = part.table;
        EXPECT_EQ(part.total_rows, rows);
        EXPECT_EQ(part.first_row, next);
        EXPECT_EQ(t.rows(), rows / shards + (s < rows % shards ? 1 : 0));
        smallest = std::min(smallest, t.rows());
        largest = std::max(largest, t.rows());
        EXPECT_EQ(t.source(), whole.source());
        EXPECT_EQ(t.header(), whole.header());
        EXPECT_EQ(t.header_line(), whole.header_line());
        for (std::size_t c = 0; c < t.columns(); ++c)
            EXPECT_EQ(t.where(npos, c), whole.where(npos, c));
        ASSERT_LE(next + t.rows(), rows);
        std::size_t mismatches = 0;  // counted, with the first few shown: files are large
        for (std::size_t r = 0; r < t.rows(); ++r) {
            const std::size_t row = next + r;
            const bool where = r % where_every == 0 || r + 1 == t.rows();
            if (t.row_lines()[r] != whole.row_lines()[row] ||
                (where && t.where(r, npos) != whole.where(row, npos))) {
                if (++mismatches <= 5) ADD_FAILURE() << "row " << row << ": " << t.where(r, npos);
            }
            for (std::size_t c = 0; c < t.columns(); ++c) {
                if (t.cell(r, c) != whole.cell(row, c) ||
                    (where && t.where(r, c) != whole.where(row, c))) {
                    if (++mismatches <= 5) {
                        ADD_FAILURE() << "row " << row << ", column " << c << ": '" << t.cell(r, c)
                                      << "' at " << t.where(r, c) << ", not '" << whole.cell(row, c)
                                      << "' at " << whole.where(row, c);
                    }
                }
            }
        }
        EXPECT_EQ(mismatches, 0u);
        std::map<std::size_t, std::vector<std::size_t>> spanning;
        for (const auto& [row, lines] : whole.spanning_rows()) {
            if (row >= next && row < next + t.rows()) spanning[row - next] = lines;
        }
        EXPECT_EQ(t.spanning_rows(), spanning);
        next += t.rows();
    }
    EXPECT_EQ(next, rows);
    EXPECT_LE(largest - smallest, 1u);
}

/// @brief Small files with every feature the tokenizer has: the name and the text.
std::vector<std::pair<std::string, std::string>> small_files() {
    return {
        {"plain", "a,b,c\n1,x,2.5\n2,y,3.5\n3,z,4.5\n4,w,5.5\n5,v,6.5\n6,u,7.5\n7,t,8.5\n"},
        {"bom_crlf",
         "\xEF\xBB\xBFid,name\r\n1,ann\r\n2,bob\r\n3,\"c, d\"\r\n4,e\r\n5,\"f\r\ng\"\r\n\r\n"},
        // Blank lines before the header, between rows and at the end, some of spaces and tabs;
        // rows indented.
        {"blank_lines", "\n  \n\t\na, b\n\n1,2\n   \n\n3,4\n\r\n 5,6\n\n\n\t7,8\n  \n9,10\n\n"},
        // A header spanning lines, quoted fields with commas, line breaks (a blank line among
        // them), doubled quotes, spaces around quotes, an empty quoted field, a quote inside an
        // unquoted field, a row starting with '#' (a cell here, as read_table reads it).
        {"quoted",
         "\"first\nname\",last,\"note \"\"q\"\"\"\n"
         "\"a, b\",c,d\n"
         "\"two\nlines\",\"three\n\nlines\",x\n"
         "  \"sp\"  ,\t\"\"\"\"\t,\"\"\n"
         "ab\"c,d\"e,\"f,\"\"g\"\"\"\n"
         "#7,x,y\n"
         "\"\n\",\"\r\n\",\"\n\n\n\"\n"
         "p,\"q\"\"\",r\n"
         "\"x\"\"\n,y\",\"\"\"\n\",z\n"
         "1,2,3\n"},
        {"no_trailing_newline", "a,b\n1,2\n3,4\n5,6"},
        {"ends_in_a_quote", "a,b\n1,2\n0,1\n3,\"4\n5\""},
        {"ends_in_spaces", "a,b\n1,2\n3,4\n5,6\n7,8\n   "},
        {"crlf_quoted_break", "a,b\r\n\"1\r\n2\",3\r\n4,\"5\r\n\r\n6\"\r\n7,8\r\n"},
    };
}

TEST(CsvShard, ShardsOfSmallFilesMakeReadTablesTable) {
    for (const auto& [name, text] : small_files()) {
        SCOPED_TRACE(name);
        const TempCsv file(name, text);
        for (std::size_t block : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5},
                                  std::size_t{16}, default_block}) {
            SCOPED_TRACE("block " + std::to_string(block));
            const BlockSize size(block);
            const std::size_t rows = read_table(file.path()).rows();
            ASSERT_GE(rows, 3u);
            for (std::size_t shards = 1; shards <= std::min<std::size_t>(rows, 5); ++shards)
                expect_shards_make_the_table(file.path(), shards);
        }
    }
}

/// @brief A random text of CSV-ish bytes: records of 1 to 3 fields, quoted or not, with
/// commas, doubled quotes, line breaks (LF and CRLF), spaces and '#' inside, blank lines, a
/// byte-order mark now and then; `wild` also scatters stray quotes and junk, so that many such
/// files are malformed.
std::string random_csv(std::mt19937& rng, bool wild) {
    const auto pick = [&](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    };
    static const char* const inside[] = {"a", ",", "\"\"", "\n", "\r\n", " ", "#", "b"};
    static const char* const stray[] = {"\"", "x", "\r", "\t", "\n"};
    std::string text = pick(6) == 0 ? "\xEF\xBB\xBF" : "";
    const std::size_t fields = 1 + pick(3);
    const std::size_t records = pick(8);
    for (std::size_t r = 0; r < records; ++r) {
        while (pick(4) == 0) text += pick(2) == 0 ? "\n" : " \r\n";
        for (std::size_t f = 0; f < fields + (wild && pick(8) == 0 ? 1 : 0); ++f) {
            if (f > 0) text += ",";
            if (pick(5) == 0) text += " ";
            if (pick(2) == 0) {
                text += "\"";
                for (std::size_t k = pick(5); k > 0; --k) text += inside[pick(8)];
                text += "\"";
            } else {
                for (std::size_t k = pick(4); k > 0; --k) text += "a #\r"[pick(4)];
            }
            if (wild && pick(6) == 0) text += stray[pick(5)];
        }
        if (r + 1 < records || pick(2) == 0) text += pick(3) == 0 ? "\r\n" : "\n";
    }
    return text;
}

TEST(CsvShard, RandomTextsAgreeWithReadTable) {
    // Well-formed texts: the shards make read_table's table. Malformed ones: the first shard
    // that fails (the one holding the first error, or shard 0 for the header) fails with
    // read_table's message, unless there are too few rows to share.
    std::mt19937 rng(20240611);
    std::size_t tables = 0;
    std::size_t errors = 0;
    for (int trial = 0; trial < 1500; ++trial) {
        const bool wild = trial % 2 == 1;
        const std::string text = random_csv(rng, wild);
        SCOPED_TRACE("text " + ::testing::PrintToString(text));
        const TempCsv file("random", text);
        const BlockSize size(1 + trial % 9);
        const std::string expected = csv_error_of([&] { read_table(file.path()); });
        if (expected.empty()) {
            const std::size_t rows = read_table(file.path()).rows();
            for (std::size_t shards = 1; shards <= std::min<std::size_t>(rows, 4); ++shards)
                expect_shards_make_the_table(file.path(), shards);
            tables += rows > 0 ? 1 : 0;
            continue;
        }
        ++errors;
        for (std::size_t shards = 1; shards <= 4; ++shards) {
            for (std::size_t s = 0; s < shards; ++s) {
                const std::string message =
                    csv_error_of([&] { read_table_shard(file.path(), s, shards); });
                if (message.empty()) continue;
                if (message.find("cannot be shared by") == std::string::npos) {
                    EXPECT_EQ(message, expected) << "shard " << s << " of " << shards;
                }
                break;
            }
        }
    }
    EXPECT_GT(tables, 300u);
    EXPECT_GT(errors, 300u);
}

TEST(CsvShard, AsManyRowsAsShardsAndOneMore) {
    for (std::size_t rows = 1; rows <= 6; ++rows) {
        std::string text = "k,\"v\"\n";
        for (std::size_t i = 0; i < rows; ++i)
            text += std::to_string(i) + ",\"line " + std::to_string(i) + "\nnext\"\n";
        const TempCsv file(std::to_string(rows), text);
        for (std::size_t shards : {rows, rows - 1}) {
            if (shards == 0 || shards > 5) continue;
            expect_shards_make_the_table(file.path(), shards);
            // Each shard of `rows` shards holds one row: row s.
            if (shards == rows) {
                for (std::size_t s = 0; s < shards; ++s) {
                    const TableShard part = read_table_shard(file.path(), s, shards);
                    ASSERT_EQ(part.table.rows(), 1u);
                    EXPECT_EQ(part.table.cell(0, 0), std::to_string(s));
                    EXPECT_EQ(part.first_row, s);
                }
            }
        }
    }
}

TEST(CsvShard, RecordsCrossingReadBlocksOfALargeFile) {
    // Over 2 MiB, read in 1 MiB blocks: records (some spanning lines, some with doubled quotes
    // and CRLF) cross the block boundaries.
    std::string text = "id,\"text, quoted\",value\r\n";
    for (std::size_t i = 0; text.size() < (std::size_t{5} << 19); ++i) {
        text += std::to_string(i) + ",";
        switch (i % 4) {
            case 0:
                text += "\"a, \"\"b\"\"\nc\"";
                break;
            case 1:
                text += "plain text";
                break;
            case 2:
                text += " \"x\r\ny\" ";
                break;
            default:
                text += "\"\"";
                break;
        }
        text += "," + std::to_string(i * 7) + (i % 3 == 0 ? "\r\n" : "\n");
        if (i % 1000 == 0) text += "\n";
    }
    const TempCsv file("large", text);
    ASSERT_GT(text.size(), std::size_t{2} << 20);
    for (std::size_t shards = 1; shards <= 5; ++shards)
        expect_shards_make_the_table(file.path(), shards, 97);
    const BlockSize size(4093);  // a prime: boundaries fall everywhere in the records
    expect_shards_make_the_table(file.path(), 3, 97);
}

TEST(CsvShard, FewerRowsThanShardsIsAnError) {
    const TempCsv three("three", "a,b\n1,2\n3,4\n5,6\n");
    for (std::size_t s = 0; s < 4; ++s) {
        EXPECT_EQ(csv_error_of([&] { read_table_shard(three.path(), s, 4); }),
                  three.path() +
                      ": 3 data rows cannot be shared by 4 ranks (each needs at least one row)");
    }
    const TempCsv one("one", "a,b\n\"1\n\",2\n\n");
    EXPECT_EQ(
        csv_error_of([&] { read_table_shard(one.path(), 1, 2); }),
        one.path() + ": 1 data row cannot be shared by 2 ranks (each needs at least one row)");
    const TempCsv header_only("header_only", "a,b\n\n");
    EXPECT_EQ(read_table(header_only.path()).rows(), 0u);
    EXPECT_EQ(csv_error_of([&] { read_table_shard(header_only.path(), 0, 1); }),
              header_only.path() +
                  ": 0 data rows cannot be shared by 1 rank (each needs at least one row)");
}

TEST(CsvShard, ShardOutOfRangeIsAnInvalidArgument) {
    const TempCsv file("f", "a\n1\n2\n");
    XGRAD_EXPECT_THROW_WITH(
        read_table_shard(file.path(), 3, 3), std::invalid_argument,
        "read_table_shard: shard 3 of '" + file.path() + "' is out of range for 3 shards (0 to 2)");
    XGRAD_EXPECT_THROW_WITH(read_table_shard(file.path(), 7, 2), std::invalid_argument,
                            "shard 7 of '" + file.path() + "' is out of range for 2 shards");
    XGRAD_EXPECT_THROW_WITH(
        read_table_shard(file.path(), 0, 0), std::invalid_argument,
        "read_table_shard: 0 shards of '" + file.path() + "' asked for (at least 1 is needed)");
    // Checked before the file is opened.
    XGRAD_EXPECT_THROW_WITH(read_table_shard("/nonexistent/t.csv", 1, 1), std::invalid_argument,
                            "shard 1 of '/nonexistent/t.csv' is out of range for 1 shards");
}

TEST(CsvShard, UnreadableFilesGiveReadTablesMessages) {
    const std::string missing = ::testing::TempDir() + "xgrad_shard_no_such_file.csv";
    const std::string expected = csv_error_of([&] { read_table(missing); });
    EXPECT_EQ(expected, missing + ": cannot open file: No such file or directory");
    EXPECT_EQ(csv_error_of([&] { read_table_shard(missing, 0, 2); }), expected);
    const std::string directory = ::testing::TempDir();
    EXPECT_EQ(csv_error_of([&] { read_table_shard(directory, 1, 2); }),
              csv_error_of([&] { read_table(directory); }));
    // A file that cannot be read twice is refused (read_table reads /dev/null as empty).
    EXPECT_EQ(csv_error_of([] { read_table_shard("/dev/null", 0, 1); }),
              "/dev/null: is not a regular file (a share is found by reading the file twice)");
}

TEST(CsvShard, HeaderErrorsAreFoundByEveryShard) {
    const std::vector<std::pair<std::string, std::string>> files = {
        {"empty", ""},
        {"blank", " \n\r\n\t\n"},
        {"bom_only", "\xEF\xBB\xBF"},
        {"comment_header", "# exported by hand\na,b\n1,2\n3,4\n"},
        {"unclosed_header", "a,\"b\n1,2\n3,4\n5,6\n"},
        {"junk_after_quote", "a,\"b\"c\n1,2\n3,4\n"},
    };
    for (const auto& [name, text] : files) {
        SCOPED_TRACE(name);
        const TempCsv file(name, text);
        const std::string expected = csv_error_of([&] { read_table(file.path()); });
        ASSERT_NE(expected, "");
        for (std::size_t block : {std::size_t{1}, default_block}) {
            const BlockSize size(block);
            for (std::size_t shards = 1; shards <= 3; ++shards) {
                for (std::size_t s = 0; s < shards; ++s) {
                    EXPECT_EQ(csv_error_of([&] { read_table_shard(file.path(), s, shards); }),
                              expected)
                        << "shard " << s << " of " << shards << ", block " << block;
                }
            }
        }
    }
    const TempCsv empty("empty", "");
    EXPECT_EQ(csv_error_of([&] { read_table_shard(empty.path(), 0, 1); }),
              empty.path() + ":1: empty file, expected a header row");
}

TEST(CsvShard, AMalformedRowIsReportedByTheShardHoldingIt) {
    // Ten rows "i,2i"; row 4 (line 6) spoiled in each of these ways.
    const std::vector<std::pair<std::string, std::string>> spoiled = {
        {"junk_after_quote", "\"4\"x,8"},
        {"ragged", "4,8,12"},
        {"comment_line", "# note"},
        {"short", "4"},
    };
    for (const auto& [name, bad_row] : spoiled) {
        SCOPED_TRACE(name);
        std::string text = "n,twice\n";
        for (std::size_t i = 0; i < 10; ++i)
            text += (i == 4 ? bad_row : std::to_string(i) + "," + std::to_string(2 * i)) + "\n";
        const TempCsv file(name, text);
        const std::string expected = csv_error_of([&] { read_table(file.path()); });
        ASSERT_NE(expected.find(file.path() + ":6:"), std::string::npos) << expected;
        for (std::size_t block : {std::size_t{1}, std::size_t{7}, default_block}) {
            const BlockSize size(block);
            for (std::size_t shards = 1; shards <= 5; ++shards) {
                for (std::size_t s = 0; s < shards; ++s) {
                    SCOPED_TRACE("shard " + std::to_string(s) + " of " + std::to_string(shards) +
                                 ", block " + std::to_string(block));
                    const std::size_t first = s * (10 / shards) + std::min(s, 10 % shards);
                    const std::size_t size = 10 / shards + (s < 10 % shards ? 1 : 0);
                    if (first <= 4 && 4 < first + size) {
                        EXPECT_EQ(csv_error_of([&] { read_table_shard(file.path(), s, shards); }),
                                  expected);
                        continue;
                    }
                    const TableShard part = read_table_shard(file.path(), s, shards);
                    EXPECT_EQ(part.first_row, first);
                    ASSERT_EQ(part.table.rows(), size);
                    for (std::size_t r = 0; r < size; ++r) {
                        EXPECT_EQ(part.table.cell(r, 0), std::to_string(first + r));
                        EXPECT_EQ(part.table.where(r, 1),
                                  file.path() + ":" + std::to_string(first + r + 2) + ":2");
                    }
                }
            }
        }
    }
}

TEST(CsvShard, AnUnclosedQuoteEndsTheRowsAndTheLastShardReportsIt) {
    // The quote opened on line 6 runs to the end of the file: read_table sees it there, and the
    // rows are 0 to 4 (the fifth holds the rest of the file).
    std::string text = "n,twice\n";
    for (std::size_t i = 0; i < 10; ++i)
        text += (i == 4 ? "\"4,8" : std::to_string(i) + "," + std::to_string(2 * i)) + "\n";
    const TempCsv file("unclosed", text);
    const std::string expected = csv_error_of([&] { read_table(file.path()); });
    EXPECT_EQ(expected,
              file.path() + ":6:1: quoted field is not closed before the end of the file");
    for (std::size_t block : {std::size_t{1}, std::size_t{7}, default_block}) {
        const BlockSize size(block);
        for (std::size_t shards = 1; shards <= 5; ++shards) {
            SCOPED_TRACE(std::to_string(shards) + " shards, block " + std::to_string(block));
            EXPECT_EQ(csv_error_of([&] { read_table_shard(file.path(), shards - 1, shards); }),
                      expected);
            for (std::size_t s = 0; s + 1 < shards; ++s) {
                const TableShard part = read_table_shard(file.path(), s, shards);
                EXPECT_EQ(part.total_rows, 5u);
                for (std::size_t r = 0; r < part.table.rows(); ++r)
                    EXPECT_EQ(part.table.cell(r, 1), std::to_string(2 * (part.first_row + r)));
            }
        }
    }
    EXPECT_EQ(
        csv_error_of([&] { read_table_shard(file.path(), 0, 6); }),
        file.path() + ": 5 data rows cannot be shared by 6 ranks (each needs at least one row)");
}

TEST(CsvShard, OnlyTheShardsBytesAreParsed) {
    // 1000 rows of 7 bytes after a 4-byte header: a quarter of them is 1750 bytes, and the
    // tokenizer steps over each byte it parses once.
    std::string text = "a,b\n";
    for (int i = 0; i < 1000; ++i) {
        char row[8];
        std::snprintf(row, sizeof row, "%04d,x\n", i);
        text += row;
    }
    const TempCsv file("steps", text);
    for (std::size_t s = 0; s < 4; ++s) {
        const TableShard part = read_table_shard(file.path(), s, 4);
        EXPECT_EQ(part.table.rows(), 250u);
        EXPECT_GE(data::last_parse_steps(), 1750u);
        EXPECT_LE(data::last_parse_steps(), 4u + 1750u);
    }
    read_table(file.path());
    EXPECT_GE(data::last_parse_steps(), text.size() - 1);
}

TEST(CsvShard, MemoryStaysNearOneShard) {
    // A 6 MiB file in 12 shards of about 0.5 MiB: a shard's reading never holds more than half
    // the file's size at once (a 1 MiB block, the shard's bytes and its table), where read_table
    // holds all of it.
    std::string text = "id,name,value\n";
    for (std::size_t i = 0; text.size() < (std::size_t{6} << 20); ++i)
        text += std::to_string(i) + ",\"name, number " + std::to_string(i) + "\",0.25\n";
    const TempCsv file("memory", text);
    const auto file_size = static_cast<long long>(text.size());
    text = std::string();
    {
        peak_bytes = live_bytes.load();
        const long long before = live_bytes.load();
        const Table whole = read_table(file.path());
        EXPECT_GT(peak_bytes.load() - before, file_size);  // the counting works
    }
    for (std::size_t s : {0, 6, 11}) {
        peak_bytes = live_bytes.load();
        const long long before = live_bytes.load();
        const TableShard part = read_table_shard(file.path(), s, 12);
        EXPECT_LT(peak_bytes.load() - before, file_size / 2) << "shard " << s;
        EXPECT_GT(part.table.rows(), 0u);
    }
}

TEST(CsvShard, AQuoteLeftOpenIsReportedWithoutReadingTheRest) {
    // A quote opened early and never closed makes the rest of the file one field: the message
    // needs only where it opened, and no shard holds the rest of the file to give it.
    std::string rest;
    for (int i = 0; rest.size() < (std::size_t{4} << 20); ++i)
        rest += std::to_string(i) + ",\"\"x\"\"\n";  // quotes doubled: still in the field
    const TempCsv in_a_row("row", "a,b\n1,2\n3,4\n5, \"" + rest);
    const TempCsv in_the_header("header", "a,\"b\n" + rest);
    const auto file_size = static_cast<long long>(rest.size());
    rest = std::string();
    for (const TempCsv* file : {&in_a_row, &in_the_header}) {
        const std::string expected = csv_error_of([&] { read_table(file->path()); });
        EXPECT_NE(expected.find("quoted field is not closed before the end of the file"),
                  std::string::npos);
        peak_bytes = live_bytes.load();
        const long long before = live_bytes.load();
        EXPECT_EQ(csv_error_of([&] { read_table_shard(file->path(), 2, 3); }), expected);
        EXPECT_LT(peak_bytes.load() - before, file_size / 2);
    }
}

}  // namespace
}  // namespace xgrad
