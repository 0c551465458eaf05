// health.risk_model — unpenalised logistic regression by distributed IRLS (contract:
// docs/contracts/jobs.md; docs/jobs/health.risk_model.md).
//
// How: every rank reads its rows once (outcome and covariates as float64 columns; rows
// with NaN anywhere dropped, as R's na.omit) into blocks of rows kept in memory up to half
// of --memory and beyond it in a scratch file (row_blocks.hpp), then iterates exactly as
// R's glm.fit: start from mu = (y + 0.5) / 2, and in each iteration one pass over the
// local blocks computes, at the current linear predictor, the deviance and the local XᵀWX
// and XᵀWz (OpenMP threads over blocks, Eigen), which are all-reduced; every rank solves
// the same p × p system. Standard errors come from the XᵀWX of the last iteration's
// weighted least squares, as summary.glm's do.
//
// Covariates are centred and scaled internally (global mean and sd) before fitting: IRLS
// is invariant under a linear change of the columns, so iterations, deviances and the
// fitted model are R's, but XᵀWX is far better conditioned than with raw columns (age,
// blood pressure and the intercept are nearly collinear). Estimates and their covariance
// are transformed back to the original scale.
#include <omp.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pearl/job.hpp"
#include "pearl/core/eigen_collectives.hpp"
#include "row_blocks.hpp"

namespace pearl::jobs {
namespace {

/// Rows per block of the local XᵀWX: small enough to stay in cache, large enough for
/// Eigen's matrix products to run at speed.
constexpr std::size_t kBlock = 2048;

// R's logit link (src/library/stats/src/family.c): the linear predictor is clamped at
// ±30 so that mu stays inside (0, 1) and the weights stay positive.
constexpr double kThresh = 30.0;
constexpr double kInvEps = 1.0 / DBL_EPSILON;

/// mu = linkinv(eta) and d mu / d eta, as R's logit_linkinv and logit_mu_eta compute
/// them, from one exp(eta) (the pass's costliest call: R computes it twice).
struct Logit {
  double mu;
  double mu_eta;
};
Logit logit(double eta) noexcept {
  if (eta < -kThresh) return {DBL_EPSILON / (1.0 + DBL_EPSILON), DBL_EPSILON};
  if (eta > kThresh) return {kInvEps / (1.0 + kInvEps), DBL_EPSILON};
  const double t = std::exp(eta);
  const double opexp = 1.0 + t;
  return {t / opexp, t / (opexp * opexp)};
}
/// Binomial deviance residual of a 0/1 outcome (R's binomial_dev_resids).
double dev_resid(double y, double mu) noexcept { return y > 0.5 ? -2.0 * std::log(mu) : -2.0 * std::log1p(-mu); }

/// What one pass over the rows at a given linear predictor yields (local, then summed).
struct PassSums {
  Eigen::MatrixXd xtwx;
  Eigen::VectorXd xtwz;
  double deviance = 0;
};

class RiskModel final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "health.risk_model"; }
  [[nodiscard]] std::string summary() const override {
    return "logistic regression of a 0/1 outcome on covariates by distributed IRLS (as R glm binomial)";
  }

  void declare(JobSpec& spec) override {
    // Columns depend on --outcome and --covariates: read at run time, as float64.
    spec.input("checkups", "one row per subject (any table: --input checkups=GLOB[:/path])");
    spec.option("outcome", &outcome_, "diabetes", "the 0/1 outcome column");
    spec.option("covariates", &covariates_, "age_years,bmi,systolic_bp,smoker",
                "numeric covariate columns, comma-separated (an intercept is always added)");
    spec.option("max-iter", &max_iter_, 25, "at most this many IRLS iterations").at_least(1);
    spec.option("tol", &tol_, 1e-8, "converged when |dev - dev_old| / (|dev| + 0.1) < tol (R's glm.control epsilon)")
        .positive();
    spec.output("coefficients", "one row per term: (Intercept), then the covariates in order",
                {{"term", DType::str}, {"estimate", DType::f64}, {"std_error", DType::f64},
                 {"z_value", DType::f64}, {"p_value", DType::f64}});
    spec.output("fit", "one row: the fit's summary",
                {{"n", DType::i64}, {"iterations", DType::i64}, {"deviance", DType::f64},
                 {"null_deviance", DType::f64}, {"aic", DType::f64}, {"converged", DType::u8}});
  }

  void run(JobContext& ctx) override {
    check_options(ctx);
    threads_ = std::max(1, ctx.engine().options().threads);
    load(ctx);
    standardise(ctx);
    fit(ctx);
  }

 private:
  void check_options(JobContext& ctx) {
    terms_ = split_list(covariates_);
    const auto check = [&](const std::string& column, const char* option) {
      if (ctx.input_column_type("checkups", column, "health.risk_model: --" + std::string(option)) == DType::str) {
        throw InputError("health.risk_model: --" + std::string(option) + " column '" + column + "' in " +
                         ctx.input_location("checkups") + " is a string column; it must be numeric");
      }
    };
    check(outcome_, "outcome");
    for (std::size_t j = 0; j < terms_.size(); ++j) {
      check(terms_[j], "covariates");
      if (terms_[j] == outcome_) throw InputError("health.risk_model: the outcome '" + outcome_ + "' is also a covariate");
      for (std::size_t k = 0; k < j; ++k) {
        if (terms_[k] == terms_[j]) throw InputError("health.risk_model: covariate '" + terms_[j] + "' is given twice");
      }
    }
  }

  /// Reads this rank's rows once into blocks: outcome (column 0) and covariates (1..k) as
  /// float64, complete rows only.
  void load(JobContext& ctx) {
    std::vector<ColumnSpec> columns = {{outcome_, DType::f64}};
    for (const auto& t : terms_) columns.push_back({t, DType::f64});
    TableInput input = ctx.input("checkups", columns);
    const std::string where = ctx.input_location("checkups");
    const EngineOptions& engine = ctx.engine().options();
    // Half the budget, as the engine's tables take: the job runs no engine pass.
    rows_share_ = ctx.memory().lease("risk_model row blocks", MemoryShare::job_alone);
    rows_ = std::make_unique<RowBlocks>(terms_.size() + 1, kBlock, rows_share_.bytes(), engine.scratch);
    std::exception_ptr failure;
    try {
      std::vector<double> row(terms_.size() + 1);
      while (auto batch = input.next()) {
        const auto y = batch->column<double>(outcome_);
        std::vector<std::span<const double>> x;
        for (const auto& t : terms_) x.push_back(batch->column<double>(t));
        for (std::size_t i = 0; i < batch->rows(); ++i) {
          bool complete = !std::isnan(y[i]);
          for (const auto& c : x) complete = complete && !std::isnan(c[i]);
          if (!complete) continue;  // na.omit
          if (y[i] != 0.0 && y[i] != 1.0) {
            throw InputError(where + ": outcome column '" + outcome_ + "' has " + std::to_string(y[i]) + " (row " +
                             std::to_string(batch->first_row() + i) + "); it must be 0 or 1");
          }
          row[0] = y[i];
          for (std::size_t j = 0; j < x.size(); ++j) {
            if (!std::isfinite(x[j][i])) {
              throw InputError(where + ": covariate column '" + terms_[j] + "' has an infinite value (row " +
                               std::to_string(batch->first_row() + i) + ")");
            }
            row[j + 1] = x[j][i];
          }
          rows_->push(row);
        }
        input.recycle(std::move(*batch));
      }
      rows_->seal();
    } catch (...) {
      failure = std::current_exception();
    }
    agree_on_failure(ctx.comm(), failure);  // one rank's bad row stops every rank
    n_ = allreduce_sum(ctx.comm(), static_cast<std::int64_t>(rows_->rows()));
    if (n_ == 0) {
      throw InputError("health.risk_model: " + where + " has no row with a value in '" + outcome_ +
                       "' and every covariate");
    }
  }

  /// Centres and scales every covariate by its global mean and standard deviation. Sums
  /// run block by block in row order, so they add exactly as over whole columns.
  void standardise(JobContext& ctx) {
    const std::size_t k = terms_.size();
    const auto at = [](std::size_t j) { return static_cast<Eigen::Index>(j); };
    Eigen::VectorXd sums = Eigen::VectorXd::Zero(at(k + 1));
    rows_->for_each_chunk([&](std::span<const RowBlocks::Block> blocks) {
      for (const auto& b : blocks) {
        for (std::size_t j = 0; j < k; ++j) {
          for (const double v : std::span<const double>(b.column(j + 1), b.rows)) sums[at(j)] += v;
        }
        for (const double v : std::span<const double>(b.column(0), b.rows)) sums[at(k)] += v;
      }
    });
    allreduce_sum(ctx.comm(), sums);
    const double n = static_cast<double>(n_);
    positives_ = sums[at(k)];
    mean_.assign(k, 0);
    scale_.assign(k, 1);
    Eigen::VectorXd squares = Eigen::VectorXd::Zero(at(std::max<std::size_t>(k, 1)));
    for (std::size_t j = 0; j < k; ++j) mean_[j] = sums[at(j)] / n;
    rows_->for_each_chunk([&](std::span<const RowBlocks::Block> blocks) {
      for (const auto& b : blocks) {
        for (std::size_t j = 0; j < k; ++j) {
          for (const double v : std::span<const double>(b.column(j + 1), b.rows)) {
            squares[at(j)] += (v - mean_[j]) * (v - mean_[j]);
          }
        }
      }
    });
    allreduce_sum(ctx.comm(), squares);
    for (std::size_t j = 0; j < k; ++j) {
      const double sd = std::sqrt(squares[at(j)] / n);
      if (!(sd > 0)) {
        throw InputError("health.risk_model: covariate '" + terms_[j] + "' is constant over the " +
                         std::to_string(n_) + " complete rows; its coefficient cannot be estimated");
      }
      scale_[j] = sd;
    }
    rows_->transform([&](const RowBlocks::Block& b) {
      for (std::size_t j = 0; j < k; ++j) {
        for (double& v : std::span<double>(b.column(j + 1), b.rows)) v = (v - mean_[j]) / scale_[j];
      }
    });
  }

  /// One pass over the local rows. With `beta` null the linear predictor is R's start,
  /// eta = logit((y + 0.5) / 2); otherwise X beta. Sums are all-reduced.
  PassSums pass(JobContext& ctx, const Eigen::VectorXd* beta) const {
    const auto p = static_cast<Eigen::Index>(terms_.size() + 1);
    const int threads = threads_;
    std::vector<PassSums> partial(static_cast<std::size_t>(threads));
    for (auto& s : partial) {
      s.xtwx = Eigen::MatrixXd::Zero(p, p);
      s.xtwz = Eigen::VectorXd::Zero(p);
    }
    // The blocks in memory are one chunk, so without a spill the threads share the blocks
    // out as over whole columns; spilled blocks come a read buffer at a time.
    rows_->for_each_chunk([&](std::span<const RowBlocks::Block> chunk) {
#pragma omp parallel num_threads(threads)
      {
        PassSums& mine = partial[static_cast<std::size_t>(omp_get_thread_num())];
        Eigen::MatrixXd xb(static_cast<Eigen::Index>(kBlock), p), wx(static_cast<Eigen::Index>(kBlock), p);
        Eigen::VectorXd eta(static_cast<Eigen::Index>(kBlock)), wz(static_cast<Eigen::Index>(kBlock)),
            wv(static_cast<Eigen::Index>(kBlock));
#pragma omp for schedule(static)
        for (std::size_t b = 0; b < chunk.size(); ++b) {
          const RowBlocks::Block& block = chunk[b];
          const auto len = static_cast<Eigen::Index>(block.rows);
          const double* ys = block.column(0);
          auto x = xb.topRows(len);
          x.col(0).setOnes();
          for (Eigen::Index j = 1; j < p; ++j) {
            x.col(j) = Eigen::Map<const Eigen::VectorXd>(block.column(static_cast<std::size_t>(j)), len);
          }
          auto e = eta.head(len);
          if (beta != nullptr) {
            e.noalias() = x * *beta;
          } else {
            for (Eigen::Index i = 0; i < len; ++i) {
              const double mu = (ys[i] + 0.5) / 2.0;
              e[i] = std::log(mu / (1.0 - mu));
            }
          }
          auto w = wv.head(len);
          auto z = wz.head(len);
          for (Eigen::Index i = 0; i < len; ++i) {
            const double y = ys[i];
            const auto [mu, d] = logit(e[i]);
            const double weight = d * d / (mu * (1.0 - mu));  // R: w = sqrt(mu.eta² / variance), squared
            mine.deviance += dev_resid(y, mu);
            // R drops rows with mu.eta == 0 from the least squares; the clamp keeps it > 0.
            z[i] = weight * (e[i] + (y - mu) / d);
            w[i] = weight;
          }
          auto weighted = wx.topRows(len);
          weighted.noalias() = (x.array().colwise() * w.array()).matrix();
          mine.xtwx.noalias() += x.transpose() * weighted;
          mine.xtwz.noalias() += x.transpose() * z;
        }
      }
    });
    // Threads' sums folded in thread order: the same result for the same thread count.
    PassSums total = std::move(partial.front());
    for (std::size_t t = 1; t < partial.size(); ++t) {
      total.xtwx += partial[t].xtwx;
      total.xtwz += partial[t].xtwz;
      total.deviance += partial[t].deviance;
    }
    Eigen::VectorXd packed(p * p + p + 1);
    packed.head(p * p) = Eigen::Map<const Eigen::VectorXd>(total.xtwx.data(), p * p);
    packed.segment(p * p, p) = total.xtwz;
    packed[p * p + p] = total.deviance;
    allreduce_sum(ctx.comm(), packed);  // one collective per pass
    total.xtwx = Eigen::Map<const Eigen::MatrixXd>(packed.data(), p, p);
    total.xtwz = packed.segment(p * p, p);
    total.deviance = packed[p * p + p];
    return total;
  }

  void fit(JobContext& ctx) {
    const auto p = static_cast<Eigen::Index>(terms_.size() + 1);
    PassSums at = pass(ctx, nullptr);
    double dev_old = at.deviance;
    Eigen::VectorXd beta = Eigen::VectorXd::Zero(p);
    Eigen::MatrixXd used;  // XᵀWX of the least squares that gave beta
    bool converged = false;
    std::int64_t iterations = 0;
    double dev = dev_old;
    const auto started = std::chrono::steady_clock::now();
    for (std::int64_t iter = 1; iter <= max_iter_; ++iter) {
      iterations = iter;
      Eigen::LLT<Eigen::MatrixXd> llt(at.xtwx);
      if (llt.info() != Eigen::Success || llt.rcond() < 1e-13) {
        throw InputError("health.risk_model: the covariates (" + covariates_ +
                         ") are collinear over the complete rows; drop one of them");
      }
      beta = llt.solve(at.xtwz);
      used = std::move(at.xtwx);
      at = pass(ctx, &beta);
      dev = at.deviance;
      if (!std::isfinite(dev)) throw Error("health.risk_model: the deviance is not finite at iteration " + std::to_string(iter));
      if (std::abs(dev - dev_old) / (std::abs(dev) + 0.1) < tol_) {
        converged = true;
        break;
      }
      dev_old = dev;
    }

    const double loop_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();

    // Back to the original scale: beta = T beta_std, covariance T cov_std Tᵀ.
    Eigen::MatrixXd t = Eigen::MatrixXd::Identity(p, p);
    for (Eigen::Index j = 1; j < p; ++j) {
      const auto s = static_cast<std::size_t>(j - 1);
      t(j, j) = 1.0 / scale_[s];
      t(0, j) = -mean_[s] / scale_[s];
    }
    const Eigen::MatrixXd cov_std = Eigen::LLT<Eigen::MatrixXd>(used).solve(Eigen::MatrixXd::Identity(p, p));
    const Eigen::VectorXd estimate = t * beta;
    const Eigen::MatrixXd cov = t * cov_std * t.transpose();

    const double n = static_cast<double>(n_);
    const double share = positives_ / n;
    double null_dev = 0;  // R: sum of dev.resids(y, mean(y)); the 0 log 0 terms are 0
    if (positives_ > 0) null_dev -= 2.0 * positives_ * std::log(share);
    if (positives_ < n) null_dev -= 2.0 * (n - positives_) * std::log1p(-share);
    // For a 0/1 outcome with unit weights binomial()$aic is the deviance itself.
    const double aic = dev + 2.0 * static_cast<double>(p);

    OutputTable coefficients = ctx.output_table("coefficients");
    OutputTable summary = ctx.output_table("fit");
    if (ctx.is_root()) {  // one copy of the rows; the other ranks write empty parts
      for (Eigen::Index j = 0; j < p; ++j) {
        const double se = std::sqrt(cov(j, j));
        const double z = estimate[j] / se;
        const std::string term = j == 0 ? "(Intercept)" : terms_[static_cast<std::size_t>(j - 1)];
        coefficients.append(term, estimate[j], se, z, std::erfc(std::abs(z) / std::sqrt(2.0)));
      }
      summary.append(n_, iterations, dev, null_dev, aic, static_cast<std::uint8_t>(converged ? 1 : 0));
      ctx.out() << "health.risk_model: n = " << n_ << ", " << iterations << " iterations ("
                << loop_ms / static_cast<double>(iterations) << " ms per iteration), deviance " << dev
                << (converged ? "" : " (NOT converged: raise --max-iter)") << '\n';
    }
    ctx.write(std::move(coefficients));
    ctx.write(std::move(summary));
  }

  std::string outcome_, covariates_;
  std::int64_t max_iter_ = 25;
  double tol_ = 1e-8;
  int threads_ = 1;
  std::vector<std::string> terms_;
  MemoryLease rows_share_;  // the row blocks' share of --memory, before rows_ so it outlives them
  std::unique_ptr<RowBlocks> rows_;  // outcome (0 or 1), then the standardised covariates
  std::vector<double> mean_, scale_;
  std::int64_t n_ = 0;
  double positives_ = 0;
};

}  // namespace
PEARL_REGISTER_JOB(RiskModel);
}  // namespace pearl::jobs
